/**
 * Password hashing, compatible with Apache htpasswd's bcrypt (`htpasswd -B`).
 *
 * Hashes are written with the `$2y$` prefix, as htpasswd writes them, so an
 * exported user list can be read by Apache, nginx and CNCF Distribution's
 * htpasswd auth; `$2a$`, `$2b$` and `$2y$` all verify (the algorithm is the
 * same for passwords without 8-bit bugs; bcryptjs handles all three).
 */

import bcrypt from 'bcryptjs';

/** Work factor: htpasswd's default, about 50-100 ms per hash here. */
export const BCRYPT_COST = 10;

/** bcrypt: `$2a$`/`$2b$`/`$2y$`, a two-digit cost, then 53 characters of salt and hash. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** bcrypt only reads the first 72 bytes of a password; longer ones are refused rather than silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

/** A password that cannot be hashed faithfully (empty, or longer than bcrypt reads). */
export class InvalidPasswordError extends Error {
  override readonly name = 'InvalidPasswordError';
}

/** True for a bcrypt hash in any of the prefixes htpasswd and other tools write. */
export function isBcryptHash(hash: string): boolean {
  return BCRYPT_HASH.test(hash);
}

/**
 * Hashes a password with bcrypt at {@link BCRYPT_COST}, `$2y$` prefix.
 * @throws InvalidPasswordError for an empty password or one over 72 bytes.
 */
export async function hashPassword(password: string, cost: number = BCRYPT_COST): Promise<string> {
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes === 0) throw new InvalidPasswordError('password must not be empty');
  if (bytes > MAX_PASSWORD_BYTES) throw new InvalidPasswordError(`password must be at most ${MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest)`);
  const hash = await bcrypt.hash(password, cost);
  // bcryptjs writes $2b$; the algorithm is identical, only the label differs.
  return `$2y$${hash.slice(4)}`;
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash of a random password at the same cost, made once: comparing against
 * it takes as long as a real comparison and never matches.
 */
function dummy(): Promise<string> {
  dummyHash ??= bcrypt.hash(crypto.randomUUID(), BCRYPT_COST);
  return dummyHash;
}

/**
 * Checks a password against a stored hash. When there is no hash (no such
 * user, or a user without a password) or the hash is not bcrypt, the password
 * is still compared against a dummy hash of the same cost, so the time taken
 * does not tell a caller which user names exist. Never throws for a bad hash.
 */
export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  if (hash === null || hash === undefined || !isBcryptHash(hash)) {
    await bcrypt.compare(password, await dummy());
    return false;
  }
  // bcryptjs's compare is itself constant-time in the hash comparison.
  return bcrypt.compare(password, hash);
}
