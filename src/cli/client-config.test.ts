import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir, readdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { CliError } from './cli-errors.ts';
import { configDir, ConfigStore, currentServer, findServer, normalizeServerUrl, withServer } from './client-config.ts';
import { basicAuth, defaultAuthFile, mergeAuthEntry, writeAuthEntry } from './registry-auth-file.ts';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'berth-cli-config-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('where the config lives', () => {
  test('BERTH_CONFIG_DIR, then XDG_CONFIG_HOME/berth, then ~/.config/berth', () => {
    assert.equal(configDir({ BERTH_CONFIG_DIR: '/a', XDG_CONFIG_HOME: '/x', HOME: '/h' }), '/a');
    assert.equal(configDir({ XDG_CONFIG_HOME: '/x' }), '/x/berth');
    assert.match(configDir({}), /\/\.config\/berth$/);
    // An empty variable counts as unset, as the XDG spec says.
    assert.equal(configDir({ BERTH_CONFIG_DIR: '', XDG_CONFIG_HOME: '/x' }), '/x/berth');
  });

  test('auth file: REGISTRY_AUTH_FILE, then XDG_RUNTIME_DIR/containers, then ~/.config/containers', () => {
    assert.equal(defaultAuthFile({ REGISTRY_AUTH_FILE: '/r/a.json', XDG_RUNTIME_DIR: '/run/u' }), '/r/a.json');
    assert.equal(defaultAuthFile({ XDG_RUNTIME_DIR: '/run/u' }), '/run/u/containers/auth.json');
    assert.match(defaultAuthFile({}), /\/\.config\/containers\/auth\.json$/);
  });
});

describe('server URLs', () => {
  test('are normalized to an origin', () => {
    assert.equal(normalizeServerUrl('https://Reg.Example.com:5000/'), 'https://reg.example.com:5000');
    assert.equal(normalizeServerUrl('127.0.0.1:5000'), 'https://127.0.0.1:5000');
    assert.equal(normalizeServerUrl('http://localhost:8080'), 'http://localhost:8080');
    // The default port disappears, so https://h and https://h:443 are one server.
    assert.equal(normalizeServerUrl('https://h:443'), 'https://h');
  });

  test('with a path, credentials or another scheme are refused', () => {
    for (const bad of ['https://h/v2', 'https://u:p@h', 'ftp://h', 'https://h?x=1', 'http://[bad']) {
      assert.throws(() => normalizeServerUrl(bad), (e: unknown) => e instanceof CliError && e.code === 'usage', bad);
    }
  });
});

describe('the config file', () => {
  test('a missing file is an empty config', async () => {
    const store = new ConfigStore(join(scratch, 'none', 'config.yaml'));
    assert.deepEqual(await store.load(), { servers: [] });
    assert.throws(() => currentServer({ servers: [] }), /log in first/);
  });

  test('is written 0600 in a 0700 directory, even under a permissive umask', async () => {
    const dir = join(scratch, 'perm', 'berth');
    const store = new ConfigStore(join(dir, 'config.yaml'));
    const old = process.umask(0o000);
    try {
      await store.save({ currentServer: 'https://a', servers: [{ url: 'https://a', accessToken: 'berth_at_x' }] });
    } finally {
      process.umask(old);
    }
    assert.equal(await mode(store.path), 0o600);
    assert.equal(await mode(dir), 0o700);
    // A file that someone widened is narrowed again by the next save.
    await chmod(store.path, 0o644);
    await store.save(await store.load());
    assert.equal(await mode(store.path), 0o600);
    // Nothing left behind by the write-and-rename.
    assert.deepEqual(await readdir(dir), ['config.yaml']);
  });

  test('round-trips, and keeps other servers when one changes', async () => {
    const store = new ConfigStore(join(scratch, 'merge', 'config.yaml'));
    await store.update((c) => ({ ...withServer(c, 'https://a', { user: 'alice', accessToken: 'at1', refreshToken: 'rt1', project: 'p' }), currentServer: 'https://a' }));
    await store.update((c) => withServer(c, 'https://b', { user: 'bob', accessToken: 'at2', certificateAuthority: '/ca.pem' }));
    // A logout-style patch removes the fields it sets to undefined and nothing else.
    await store.update((c) => withServer(c, 'https://a', { user: undefined, accessToken: undefined, refreshToken: undefined }));
    const config = await store.load();
    assert.equal(config.currentServer, 'https://a');
    assert.deepEqual(findServer(config, 'https://a'), { url: 'https://a', project: 'p' });
    assert.deepEqual(findServer(config, 'https://b'), { url: 'https://b', user: 'bob', accessToken: 'at2', certificateAuthority: '/ca.pem' });
    assert.equal(currentServer(config).url, 'https://a');
    // The YAML has no null noise for removed fields.
    const raw = parse(await readFile(store.path, 'utf8')) as { servers: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(raw.servers[0] ?? {}).sort(), ['project', 'url']);
  });

  test('a broken file is one clear error naming it', async () => {
    const dir = join(scratch, 'broken');
    await mkdir(dir, { recursive: true });
    const store = new ConfigStore(join(dir, 'config.yaml'));
    await writeFile(store.path, 'servers: [\n');
    await assert.rejects(store.load(), (e: unknown) => e instanceof CliError && e.code === 'config' && e.message.includes(store.path) && !e.message.includes('\n'));
    await writeFile(store.path, 'servers:\n  - user: alice\n');
    await assert.rejects(store.load(), /not a Berth client config at servers\.0\.url/);
  });
});

describe('the containers auth file', () => {
  test('merging keeps other registries and keys, replaces this host', () => {
    const existing = JSON.stringify({ auths: { 'quay.io': { auth: 'cXVheTp4' }, 'h:5000': { auth: 'b2xk', identitytoken: 'x' } }, credHelpers: { 'gcr.io': 'gcloud' } });
    const merged = mergeAuthEntry(existing, 'h:5000', basicAuth('alice', 'berth_at_t'));
    assert.deepEqual(merged, {
      auths: { 'quay.io': { auth: 'cXVheTp4' }, 'h:5000': { auth: Buffer.from('alice:berth_at_t').toString('base64') } },
      credHelpers: { 'gcr.io': 'gcloud' },
    });
    assert.deepEqual(mergeAuthEntry(undefined, 'h', 'YQ=='), { auths: { h: { auth: 'YQ==' } } });
  });

  test('a file that is not an auth file is not overwritten', () => {
    assert.throws(() => mergeAuthEntry('[1]', 'h', 'x', '/f'), /\/f is not a JSON object/);
    assert.throws(() => mergeAuthEntry('{"auths":[]}', 'h', 'x', '/f'), /"auths" is not an object/);
    assert.throws(() => mergeAuthEntry('{', 'h', 'x', '/f'), /\/f is not JSON/);
  });

  test('is written 0600 in a 0700 directory and merged on the second write', async () => {
    const path = join(scratch, 'auth', 'containers', 'auth.json');
    await writeAuthEntry(path, 'a:1', 'YTp4');
    await writeAuthEntry(path, 'b:2', 'Yjp5');
    assert.equal(await mode(path), 0o600);
    assert.equal(await mode(join(scratch, 'auth', 'containers')), 0o700);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { auths: { 'a:1': { auth: 'YTp4' }, 'b:2': { auth: 'Yjp5' } } });
  });
});
