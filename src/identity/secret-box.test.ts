import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadOrCreateMasterKey, SecretBox, SecretBoxError } from './secret-box.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-secrets-'));
  dirs.push(dir);
  return dir;
}

function code(expected: SecretBoxError['code']) {
  return (error: unknown) => error instanceof SecretBoxError && error.code === expected;
}

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips strings and bytes, with a fresh IV per seal', () => {
    const sealed = box.seal('{"kty":"EC","d":"secret ✓"}', 'signing-key:k1');
    assert.match(sealed, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(box.openString(sealed, 'signing-key:k1'), '{"kty":"EC","d":"secret ✓"}');
    assert.notEqual(box.seal('same'), box.seal('same'));
    const bytes = randomBytes(1000);
    assert.deepEqual(box.open(box.seal(bytes)), bytes);
    assert.equal(box.openString(box.seal('')), '');
    assert.ok(!sealed.includes('secret'));
  });

  it('refuses a changed ciphertext, IV or tag, another key, and another context', () => {
    const sealed = box.seal('payload', 'ctx');
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const part = Buffer.from(parts[index] ?? '', 'base64url');
      part[0] = (part[0] ?? 0) ^ 1;
      const changed = [...parts];
      changed[index] = part.toString('base64url');
      assert.throws(() => box.open(changed.join('.'), 'ctx'), code('TAMPERED'), `part ${index}`);
    }
    assert.throws(() => new SecretBox(randomBytes(32)).open(sealed, 'ctx'), code('TAMPERED'));
    assert.throws(() => box.open(sealed, 'other'), code('TAMPERED'));
    assert.throws(() => box.open(sealed), code('TAMPERED'));
    assert.throws(() => box.open('v2.a.b.c'), code('MALFORMED'));
    assert.throws(() => box.open('garbage'), code('MALFORMED'));
    assert.throws(() => box.open(`v1.${parts[1]}.${parts[2]}.AAAA`, 'ctx'), code('MALFORMED'));
  });

  it('requires a 32-byte key', () => {
    assert.throws(() => new SecretBox(randomBytes(16)), code('INVALID_KEY'));
  });
});

describe('loadOrCreateMasterKey', () => {
  it('creates the key once, 0600 in a 0700 directory, and reads it back', async () => {
    const dir = await tempDir();
    const [a, b, c] = await Promise.all([loadOrCreateMasterKey(dir), loadOrCreateMasterKey(dir), loadOrCreateMasterKey(dir)]);
    assert.equal(a.length, 32);
    assert.deepEqual(a, b, 'concurrent first starts agree on one key');
    assert.deepEqual(a, c);
    assert.deepEqual(await loadOrCreateMasterKey(dir), a);
    const file = path.join(dir, 'secrets', 'master.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dir, 'secrets'))).mode & 0o777, 0o700);
    assert.deepEqual(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'), a);
    // A sealed secret survives a "restart".
    const sealed = new SecretBox(a).seal('x');
    assert.equal(new SecretBox(await loadOrCreateMasterKey(dir)).openString(sealed), 'x');
  });

  it('uses a key given as base64 instead, without touching the directory', async () => {
    const dir = await tempDir();
    const key = randomBytes(32);
    assert.deepEqual(await loadOrCreateMasterKey(dir, { keyBase64: key.toString('base64') }), key);
    assert.deepEqual(await loadOrCreateMasterKey(dir, { keyBase64: ` ${key.toString('base64url')}\n` }), key);
    await assert.rejects(stat(path.join(dir, 'secrets')), { code: 'ENOENT' });
    await assert.rejects(loadOrCreateMasterKey(dir, { keyBase64: randomBytes(31).toString('base64') }), code('INVALID_KEY'));
    await assert.rejects(loadOrCreateMasterKey(dir, { keyBase64: 'not base64!' }), code('INVALID_KEY'));
  });

  it('refuses a corrupt key file rather than replacing it', async () => {
    const dir = await tempDir();
    await loadOrCreateMasterKey(dir);
    const file = path.join(dir, 'secrets', 'master.key');
    await writeFile(file, 'c2hvcnQ=\n');
    await assert.rejects(loadOrCreateMasterKey(dir), code('INVALID_KEY'));
    assert.equal(await readFile(file, 'utf8'), 'c2hvcnQ=\n');
  });
});
