/**
 * Checking that bytes from a remote registry are what their digest says.
 * Nothing fetched from another registry is trusted on the registry's word.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { isDigestAlgorithm } from '../oci/digest.ts';
import type { DigestAlgorithm } from '../oci/digest.ts';
import { RemoteRegistryError } from './remote-errors.ts';

const DIGEST = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-f0-9]+)$/;
const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

/** The algorithm of a digest we can verify; throws invalid-response for anything else. */
export function digestAlgorithm(digest: string): DigestAlgorithm {
  const m = DIGEST.exec(digest);
  const algorithm = m?.[1];
  if (m === null || algorithm === undefined || !isDigestAlgorithm(algorithm) || m[2]?.length !== HEX_LENGTH[algorithm]) {
    throw new RemoteRegistryError('invalid-response', `unsupported or malformed digest ${JSON.stringify(digest.slice(0, 200))}`);
  }
  return algorithm;
}

export function computeDigest(algorithm: DigestAlgorithm, bytes: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throws RemoteRegistryError('invalid-response') unless `bytes` hash to `expected`. */
export function verifyDigest(bytes: Uint8Array, expected: string): void {
  const actual = computeDigest(digestAlgorithm(expected), bytes);
  if (actual !== expected) {
    throw new RemoteRegistryError('invalid-response', `content does not match its digest: expected ${expected}, got ${actual}`);
  }
}

export interface DigestVerifierOptions {
  /** When known (descriptor size, Content-Length): more bytes, or fewer at the end, is an error. */
  readonly expectedSize?: number | undefined;
  /** Hard cap: more bytes than this fails the stream with `too-large`. */
  readonly maxBytes?: number | undefined;
}

/**
 * A pass-through stream that hashes what flows through it and fails, with a
 * RemoteRegistryError('invalid-response'), at the end if the digest does not
 * match, or as soon as the size is exceeded. A consumer that must not act on
 * unverified bytes waits for 'end' (or `finished`) before committing them.
 */
export class DigestVerifier extends Transform {
  readonly expected: string;
  readonly #hash: Hash;
  readonly #expectedSize: number | undefined;
  readonly #maxBytes: number | undefined;
  #bytes = 0;

  constructor(expected: string, options: DigestVerifierOptions = {}) {
    super();
    this.expected = expected;
    this.#hash = createHash(digestAlgorithm(expected));
    this.#expectedSize = options.expectedSize;
    this.#maxBytes = options.maxBytes;
  }

  /** Bytes seen so far. */
  get bytesSeen(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#maxBytes !== undefined && this.#bytes > this.#maxBytes) {
      callback(new RemoteRegistryError('too-large', `blob ${this.expected} is larger than the limit of ${this.#maxBytes} bytes`));
      return;
    }
    if (this.#expectedSize !== undefined && this.#bytes > this.#expectedSize) {
      callback(new RemoteRegistryError('invalid-response', `blob ${this.expected} is longer than the expected ${this.#expectedSize} bytes`));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#expectedSize !== undefined && this.#bytes !== this.#expectedSize) {
      callback(new RemoteRegistryError('invalid-response', `blob ${this.expected} ended after ${this.#bytes} of ${this.#expectedSize} bytes`));
      return;
    }
    const actual = `${digestAlgorithm(this.expected)}:${this.#hash.digest('hex')}`;
    if (actual !== this.expected) {
      callback(new RemoteRegistryError('invalid-response', `blob content does not match its digest: expected ${this.expected}, got ${actual}`));
      return;
    }
    callback();
  }
}
