import { createHash, type Hash } from 'node:crypto';
import { OciError } from './errors.ts';

/** Digest algorithms the registry verifies (image-spec "Registered algorithms"). */
export const DIGEST_ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex`, the canonical string form. */
  readonly value: string;
}

// image-spec descriptor.md: algorithm-component and encoded grammar.
const DIGEST_GRAMMAR = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export function isDigestAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, name);
}

/** Parses and validates a digest string; throws DIGEST_INVALID (400) otherwise. */
export function parseDigest(text: string): Digest {
  const match = DIGEST_GRAMMAR.exec(text);
  if (!match) throw new OciError('DIGEST_INVALID', `invalid digest ${JSON.stringify(text.slice(0, 200))}`);
  const algorithm = match[1] as string;
  const hex = match[2] as string;
  if (!isDigestAlgorithm(algorithm)) {
    throw new OciError('DIGEST_INVALID', `unsupported digest algorithm ${JSON.stringify(algorithm)}; use sha256 or sha512`);
  }
  if (hex.length !== DIGEST_ALGORITHMS[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new OciError('DIGEST_INVALID', `invalid ${algorithm} digest ${JSON.stringify(text.slice(0, 200))}`);
  }
  return { algorithm, hex, value: text };
}

/** True when the text looks like a digest at all (has an algorithm prefix), as opposed to a tag. */
export function looksLikeDigest(reference: string): boolean {
  return reference.includes(':');
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(algorithm: DigestAlgorithm, data: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
