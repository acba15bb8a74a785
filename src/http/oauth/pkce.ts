import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * PKCE (RFC 7636), S256 only: `plain` protects nothing against an attacker
 * who can read the authorization request, and every client we serve can hash.
 */

/** §4.1: 43-128 characters of [A-Z a-z 0-9 - . _ ~]. The same syntax holds for an S256 challenge (43 base64url characters). */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** True for a syntactically valid S256 `code_challenge`. */
export function isS256Challenge(challenge: string): boolean {
  return S256_CHALLENGE.test(challenge);
}

/** The S256 challenge of a verifier: base64url(sha256(ascii(verifier))), §4.2. */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** True when `verifier` is well formed and hashes to `challenge` (compared in constant time). */
export function verifyS256(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const actual = Buffer.from(s256Challenge(verifier));
  const expected = Buffer.from(challenge);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
