/**
 * Encryption of secrets at rest (token-signing keys now, pull secrets of
 * remote registries later): AES-256-GCM under one 32-byte master key.
 *
 * Sealed form: `v1.<base64url(iv)>.<base64url(ciphertext)>.<base64url(tag)>`,
 * text so it fits any column. Each seal takes a fresh random 96-bit IV. An
 * optional context string (e.g. `signing-key:<kid>`) is bound in as
 * additional authenticated data, so a sealed value copied to another row or
 * purpose does not open there.
 *
 * The master key lives in `<dataDir>/secrets/master.key` (created on first
 * start, 0600 in a 0700 directory) or is given as base64, which is how HA
 * nodes share one key; losing it makes every sealed secret unreadable.
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** Why a secret box operation failed. */
export type SecretBoxErrorCode = 'INVALID_KEY' | 'MALFORMED' | 'TAMPERED';

/** A master key or sealed value that cannot be used; `code` says which. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
  readonly code: SecretBoxErrorCode;
  constructor(code: SecretBoxErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Seals and opens secrets with one master key. */
export class SecretBox {
  readonly #key: Buffer;

  /** @throws SecretBoxError INVALID_KEY unless the key is exactly 32 bytes. */
  constructor(masterKey: Uint8Array) {
    if (masterKey.byteLength !== KEY_BYTES) {
      throw new SecretBoxError('INVALID_KEY', `master key must be ${KEY_BYTES} bytes, got ${masterKey.byteLength}`);
    }
    this.#key = Buffer.from(masterKey);
  }

  /** Encrypts `plaintext` (UTF-8 when a string); `context` must be given again to open it. */
  seal(plaintext: string | Uint8Array, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
    return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /**
   * Decrypts a sealed value.
   * @throws SecretBoxError MALFORMED when it is not a sealed value of this
   *   format; TAMPERED when it was changed, sealed under another key, or
   *   sealed with another context.
   */
  open(sealed: string, context = ''): Buffer {
    const parts = sealed.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretBoxError('MALFORMED', 'not a sealed secret (expected v1.iv.ciphertext.tag)');
    const [, ivText = '', dataText = '', tagText = ''] = parts;
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretBoxError('MALFORMED', 'sealed secret has a bad IV or tag length');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]);
    } catch (error) {
      throw new SecretBoxError('TAMPERED', 'sealed secret failed authentication (changed, wrong key, or wrong context)', { cause: error });
    }
  }

  /** `open`, decoded as UTF-8. */
  openString(sealed: string, context = ''): string {
    return this.open(sealed, context).toString('utf8');
  }
}

/** Decodes a base64 (or base64url) master key. @throws SecretBoxError INVALID_KEY */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new SecretBoxError('INVALID_KEY', 'master key is not base64');
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) throw new SecretBoxError('INVALID_KEY', `master key must decode to ${KEY_BYTES} bytes, got ${key.length}`);
  return key;
}

export interface MasterKeyOptions {
  /** A base64 key from configuration; when given, the key file is neither read nor written. */
  readonly keyBase64?: string | undefined;
}

/**
 * The master key: `options.keyBase64` when given, else the one in
 * `<dataDir>/secrets/master.key`, created (32 random bytes, base64 text) on
 * first use. Creation is atomic: the key is written to a temporary file and
 * hard-linked into place, so two processes starting at once end up with the
 * same key and nobody reads a half-written file.
 *
 * @throws SecretBoxError INVALID_KEY for a given or stored key that is not 32 bytes of base64.
 */
export async function loadOrCreateMasterKey(dataDir: string, options: MasterKeyOptions = {}): Promise<Buffer> {
  if (options.keyBase64 !== undefined) return parseMasterKey(options.keyBase64);
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, 'master.key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by the umask and ignored for an existing directory.
  await chmod(dir, 0o700);
  try {
    return parseMasterKey(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temp = path.join(dir, `.master.key.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
  } catch (error) {
    // Another process created it first: theirs is the key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp);
  }
  return parseMasterKey(await readFile(file, 'utf8'));
}
