import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, configEnvironmentVariables, configSettings, loadConfig, parseListen } from './load-config.ts';
import type { ConfigSetting } from './load-config.ts';

/** Runs `load` and returns the ConfigError's problem lines; fails if it does not throw one. */
async function problemsOf(load: Promise<unknown>): Promise<readonly string[]> {
  try {
    await load;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

function valueAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const segment of path) node = (node as Record<string, unknown>)[segment];
  return node;
}

describe('loadConfig', () => {
  let dir: string;
  const cwd = '/srv/berth';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function yamlFile(name: string, text: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  }

  it('fills every setting with its default, resolving paths and derived settings', async () => {
    const config = await loadConfig({ env: {}, cwd });
    assert.deepEqual(config, {
      listen: '0.0.0.0:5000',
      dataDir: '/srv/berth/data',
      tls: { enabled: true, hostnames: [] },
      storage: { driver: 'filesystem', filesystem: { root: '/srv/berth/data/blobs' } },
      database: { url: 'sqlite:/srv/berth/data/berth.db' },
      log: { level: 'info', requests: true },
      auth: { selfProvisioning: true, createProjectOnPush: true, tokenLifetimeSeconds: 300, service: 'berth', adminUser: 'admin', maxLoginFailures: 10, loginFailureWindowSeconds: 300 },
      imports: { intervalMinutes: 15 },
      registry: { maxManifestBytes: 4194304, uploadExpiryHours: 24, maxCatalogPage: 1000, maxTagsPage: 1000 },
    });
  });

  it('reads values from the YAML file and keeps defaults for the rest', async () => {
    const file = await yamlFile(
      'values.yaml',
      [
        'listen: "127.0.0.1:5443"',
        'dataDir: /var/lib/berth',
        'tls:',
        '  hostnames: [registry.example.test, 10.0.0.5]',
        'log:',
        '  level: debug',
        'registry:',
        '  maxManifestBytes: 1024',
      ].join('\n'),
    );
    const config = await loadConfig({ file, env: {}, cwd });
    assert.equal(config.listen, '127.0.0.1:5443');
    assert.equal(config.dataDir, '/var/lib/berth');
    assert.deepEqual(config.tls, { enabled: true, hostnames: ['registry.example.test', '10.0.0.5'] });
    assert.equal(config.log.level, 'debug');
    assert.equal(config.log.requests, true);
    assert.equal(config.registry.maxManifestBytes, 1024);
    assert.equal(config.registry.maxTagsPage, 1000);
    assert.equal(config.storage.filesystem.root, '/var/lib/berth/blobs');
    assert.equal(config.database.url, 'sqlite:/var/lib/berth/berth.db');
  });

  it('treats an empty file as no settings, and finds the file through BERTH_CONFIG', async () => {
    const empty = await yamlFile('empty.yaml', '# nothing yet\n');
    assert.equal((await loadConfig({ file: empty, env: {}, cwd })).listen, '0.0.0.0:5000');
    const file = await yamlFile('via-env.yaml', 'listen: ":6000"\n');
    assert.equal((await loadConfig({ env: { BERTH_CONFIG: file }, cwd })).listen, ':6000');
  });

  it('lets the environment beat the file', async () => {
    const file = await yamlFile('env-beats.yaml', 'listen: "127.0.0.1:1"\ntls:\n  enabled: true\nlog:\n  level: warn\n');
    const config = await loadConfig({
      file,
      env: { BERTH_LISTEN: '127.0.0.1:2', BERTH_TLS__ENABLED: 'false', BERTH_TLS__HOSTNAMES: 'a.test, b.test' },
      cwd,
    });
    assert.equal(config.listen, '127.0.0.1:2');
    assert.equal(config.tls.enabled, false);
    assert.deepEqual(config.tls.hostnames, ['a.test', 'b.test']);
    assert.equal(config.log.level, 'warn', 'settings the environment does not name keep the file value');
  });

  it('lets overrides beat the environment, ignoring undefined members', async () => {
    const config = await loadConfig({
      env: { BERTH_LISTEN: '127.0.0.1:2', BERTH_LOG__LEVEL: 'error' },
      overrides: { listen: '127.0.0.1:3', log: { level: undefined, requests: false } },
      cwd,
    });
    assert.equal(config.listen, '127.0.0.1:3');
    assert.equal(config.log.level, 'error');
    assert.equal(config.log.requests, false);
  });

  it('derives the storage root and database URL from dataDir whichever source sets it, unless set themselves', async () => {
    const relative = await loadConfig({ env: { BERTH_DATA_DIR: 'state' }, cwd });
    assert.equal(relative.dataDir, '/srv/berth/state');
    assert.equal(relative.storage.filesystem.root, '/srv/berth/state/blobs');
    assert.equal(relative.database.url, 'sqlite:/srv/berth/state/berth.db');

    const explicit = await loadConfig({
      env: {
        BERTH_STORAGE__FILESYSTEM__ROOT: 'blobs-elsewhere',
        BERTH_DATABASE__URL: 'postgres://berth:secret@db.example.test:5432/berth',
      },
      overrides: { dataDir: '/data' },
      cwd,
    });
    assert.equal(explicit.dataDir, '/data');
    assert.equal(explicit.storage.filesystem.root, '/srv/berth/blobs-elsewhere');
    assert.equal(explicit.database.url, 'postgres://berth:secret@db.example.test:5432/berth');

    const sqlite = await loadConfig({ env: { BERTH_DATABASE__URL: 'sqlite:./meta.db' }, cwd });
    assert.equal(sqlite.database.url, 'sqlite:/srv/berth/meta.db');
  });

  it('derives one environment variable per setting, each of which sets its setting', async () => {
    const variables = configEnvironmentVariables();
    for (const expected of [
      'BERTH_LISTEN',
      'BERTH_DATA_DIR',
      'BERTH_TLS__ENABLED',
      'BERTH_TLS__CERT_FILE',
      'BERTH_STORAGE__FILESYSTEM__ROOT',
      'BERTH_DATABASE__URL',
      'BERTH_LOG__LEVEL',
      'BERTH_REGISTRY__MAX_MANIFEST_BYTES',
    ]) {
      assert.ok(variables.includes(expected), `${expected} in ${variables.join(', ')}`);
    }
    assert.equal(new Set(variables).size, variables.length);

    const settings = new Map<string, ConfigSetting>(configSettings().map((setting) => [setting.variable, setting]));
    const special: Record<string, [text: string, value: unknown]> = {
      BERTH_LISTEN: ['[::1]:7000', '[::1]:7000'],
      BERTH_DATABASE__URL: ['postgres://u@h/db', 'postgres://u@h/db'],
      BERTH_AUTH__TOKEN_LIFETIME_SECONDS: ['600', 600],
      BERTH_EXTERNAL_URL: ['https://registry.example.test', 'https://registry.example.test'],
    };
    // certFile and keyFile must come together; a base pair lets each be set alone.
    const base = { BERTH_TLS__CERT_FILE: '/base/cert.pem', BERTH_TLS__KEY_FILE: '/base/key.pem' };
    for (const variable of variables) {
      const setting = settings.get(variable);
      assert.ok(setting !== undefined);
      let sample: [string, unknown];
      const fixed = special[variable];
      if (fixed !== undefined) sample = fixed;
      else if (setting.kind === 'boolean') sample = ['0', false];
      else if (setting.kind === 'number') sample = ['7', 7];
      else if (setting.kind === 'string-list') sample = ['x.test,y.test', ['x.test', 'y.test']];
      else if (setting.kind === 'enum') {
        const last = setting.values?.at(-1);
        assert.ok(last !== undefined);
        sample = [last, last];
      } else sample = [`/sample/${variable.toLowerCase()}`, `/sample/${variable.toLowerCase()}`];

      const config = await loadConfig({ env: { ...base, [variable]: sample[0] }, cwd });
      assert.deepEqual(valueAt(config, setting.path), sample[1], `${variable}=${sample[0]}`);
    }
  });

  it('coerces booleans from true/false/1/0 and rejects anything else, naming the variable', async () => {
    assert.equal((await loadConfig({ env: { BERTH_LOG__REQUESTS: 'FALSE' }, cwd })).log.requests, false);
    assert.equal((await loadConfig({ env: { BERTH_LOG__REQUESTS: '1' }, cwd })).log.requests, true);
    assert.deepEqual(await problemsOf(loadConfig({ env: { BERTH_TLS__ENABLED: 'yes' }, cwd })), [
      'BERTH_TLS__ENABLED: expected true, false, 1 or 0, got "yes"',
    ]);
    assert.deepEqual(await problemsOf(loadConfig({ env: { BERTH_REGISTRY__MAX_TAGS_PAGE: 'lots' }, cwd })), [
      'BERTH_REGISTRY__MAX_TAGS_PAGE: expected a number, got "lots"',
    ]);
    const fractional = await problemsOf(loadConfig({ env: { BERTH_REGISTRY__MAX_TAGS_PAGE: '1.5' }, cwd }));
    assert.equal(fractional.length, 1);
    assert.match(fractional[0] ?? '', /^registry\.maxTagsPage: expected an integer.*\(from BERTH_REGISTRY__MAX_TAGS_PAGE\)$/);
  });

  it('rejects unknown keys in the file, naming their path', async () => {
    const file = await yamlFile('unknown.yaml', 'listen: ":5000"\ntls:\n  enable: false\nstorag: {}\n');
    const problems = await problemsOf(loadConfig({ file, env: {}, cwd }));
    assert.deepEqual(problems, [
      `tls.enable: unknown setting (did you mean enabled?) (in ${file})`,
      `storag: unknown setting (did you mean storage?) (in ${file})`,
    ]);
  });

  it('rejects a malformed YAML file and a file that is not a mapping', async () => {
    const broken = await yamlFile('broken.yaml', 'listen: ":5000"\nlisten: ":6000"\n');
    const [line] = await problemsOf(loadConfig({ file: broken, env: {}, cwd }));
    assert.match(line ?? '', new RegExp(`^${broken}:2:1: `));
    const list = await yamlFile('list.yaml', '- a\n- b\n');
    assert.deepEqual(await problemsOf(loadConfig({ file: list, env: {}, cwd })), [
      `${list}: expected a mapping of settings at the top level`,
    ]);
    const [missing] = await problemsOf(loadConfig({ file: join(dir, 'absent.yaml'), env: {}, cwd }));
    assert.match(missing ?? '', /absent\.yaml: cannot read config file: .*ENOENT/);
  });

  it('rejects an unknown BERTH_ variable but allows the non-setting ones', async () => {
    assert.deepEqual(await problemsOf(loadConfig({ env: { BERTH_LISTN: ':5000' }, cwd })), [
      'BERTH_LISTN: unknown setting (did you mean BERTH_LISTEN?)',
    ]);
    assert.deepEqual(await problemsOf(loadConfig({ env: { BERTH_STORAGE_DRIVER: 'filesystem' }, cwd })), [
      'BERTH_STORAGE_DRIVER: unknown setting (did you mean BERTH_STORAGE__DRIVER?)',
    ]);
    const config = await loadConfig({
      env: { BERTH_ADMIN_PASSWORD: 'x', BERTH_TEST_POSTGRES_URL: 'postgres://x', OTHER_LISTEN: 'ignored', BERTH_LISTEN: '' },
      cwd,
    });
    assert.equal(config.listen, '0.0.0.0:5000', 'an empty variable counts as unset');
  });

  it('rejects a bad listen address and a bad enum value, naming the path and the source', async () => {
    assert.deepEqual(await problemsOf(loadConfig({ env: { BERTH_LISTEN: 'localhost' }, cwd })), [
      'listen: expected HOST:PORT, got string "localhost" (from BERTH_LISTEN)',
    ]);
    assert.deepEqual(await problemsOf(loadConfig({ overrides: { listen: '1.2.3.4:70000' }, env: {}, cwd })), [
      'listen: expected HOST:PORT, got string "1.2.3.4:70000" (from the command line)',
    ]);
    const file = await yamlFile('driver.yaml', 'storage:\n  driver: s3\nlog:\n  level: loud\n');
    assert.deepEqual(await problemsOf(loadConfig({ file, env: {}, cwd })), [
      `storage.driver: expected one of filesystem, got string "s3" (in ${file})`,
      `log.level: expected one of fatal, error, warn, info, debug, trace, silent, got string "loud" (in ${file})`,
    ]);
  });

  it('requires tls.certFile and tls.keyFile together, and resolves them', async () => {
    assert.deepEqual(await problemsOf(loadConfig({ env: { BERTH_TLS__CERT_FILE: '/etc/berth/tls.crt' }, cwd })), [
      'tls.keyFile: required when tls.certFile is set',
    ]);
    assert.deepEqual(await problemsOf(loadConfig({ overrides: { tls: { keyFile: 'k.pem' } }, env: {}, cwd })), [
      'tls.certFile: required when tls.keyFile is set (from the command line)',
    ]);
    const config = await loadConfig({ overrides: { tls: { certFile: 'tls/c.pem', keyFile: '/k.pem' } }, env: {}, cwd });
    assert.deepEqual(config.tls, { enabled: true, hostnames: [], certFile: '/srv/berth/tls/c.pem', keyFile: '/k.pem' });
  });

  it('reports every problem at once, with the type expected', async () => {
    const file = await yamlFile('types.yaml', 'tls:\n  enabled: yes\nregistry:\n  maxCatalogPage: 0\ndatabase:\n  url: mysql://x\n');
    assert.deepEqual(await problemsOf(loadConfig({ file, env: { BERTH_NOPE: '1' }, cwd })), [
      'BERTH_NOPE: unknown setting',
      `tls.enabled: expected boolean, got string "yes" (in ${file})`,
      `database.url: expected sqlite:PATH or postgres://USER@HOST/DB, got string "mysql://x" (in ${file})`,
      `registry.maxCatalogPage: expected a number >= 1, got number 0 (in ${file})`,
    ]);
  });
});

describe('parseListen', () => {
  it('accepts host:port, [v6]:port and :port', () => {
    assert.deepEqual(parseListen('0.0.0.0:5000'), { host: '0.0.0.0', port: 5000 });
    assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
    assert.deepEqual(parseListen('[::1]:5000'), { host: '::1', port: 5000 });
    assert.deepEqual(parseListen('[::]:443'), { host: '::', port: 443 });
    assert.deepEqual(parseListen(':5000'), { host: '0.0.0.0', port: 5000 });
  });

  it('rejects what is not HOST:PORT', () => {
    for (const bad of ['5000', 'localhost', '::1:5000', '[::1]', '[nope]:5000', 'host:65536', 'host:-1', 'a b:1', '']) {
      assert.throws(() => parseListen(bad), ConfigError, bad);
    }
  });
});
