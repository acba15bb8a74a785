import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { computeDigest, digestAlgorithm, DigestVerifier, verifyDigest } from './digest-verify.ts';
import { RemoteRegistryError } from './remote-errors.ts';
import type { RemoteErrorReason } from './remote-errors.ts';

const bytes = Buffer.from('{"schemaVersion":2}');
const good = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function isReason(reason: RemoteErrorReason): (err: unknown) => boolean {
  return (err) => err instanceof RemoteRegistryError && err.reason === reason;
}

async function drain(chunks: Buffer[], verifier: DigestVerifier): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), verifier, new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk);
      cb();
    },
  }));
  return Buffer.concat(out);
}

test('verifyDigest accepts matching bytes and rejects tampered ones', () => {
  verifyDigest(bytes, good);
  const tampered = Buffer.from(bytes);
  tampered[0] = 0x20;
  assert.throws(() => verifyDigest(tampered, good), isReason('invalid-response'));
  const sha512 = computeDigest('sha512', bytes);
  verifyDigest(bytes, sha512);
  assert.throws(() => verifyDigest(tampered, sha512), isReason('invalid-response'));
});

test('unsupported or malformed digests are invalid-response', () => {
  assert.equal(digestAlgorithm(good), 'sha256');
  for (const bad of ['md5:d41d8cd98f00b204e9800998ecf8427e', 'sha256:abc', `sha256:${'A'.repeat(64)}`, 'nonsense']) {
    assert.throws(() => verifyDigest(bytes, bad), isReason('invalid-response'), bad);
  }
});

test('DigestVerifier passes matching streams through', async () => {
  const out = await drain([bytes.subarray(0, 5), bytes.subarray(5)], new DigestVerifier(good, { expectedSize: bytes.length }));
  assert.deepEqual(out, bytes);
});

test('DigestVerifier errors at the end on a digest mismatch', async () => {
  const tampered = Buffer.from(bytes);
  tampered[3] = (tampered[3] ?? 0) ^ 1;
  await assert.rejects(drain([tampered], new DigestVerifier(good)), isReason('invalid-response'));
});

test('DigestVerifier enforces expected size and the byte cap', async () => {
  await assert.rejects(drain([bytes, Buffer.from('x')], new DigestVerifier(good, { expectedSize: bytes.length })), isReason('invalid-response'));
  await assert.rejects(drain([bytes.subarray(0, 4)], new DigestVerifier(good, { expectedSize: bytes.length })), isReason('invalid-response'));
  await assert.rejects(drain([bytes], new DigestVerifier(good, { maxBytes: 4 })), isReason('too-large'));
});
