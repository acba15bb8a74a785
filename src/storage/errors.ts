/** Errors of the storage layer. The registry layer translates them; nobody matches on message text. */

export class StorageError extends Error {
  override readonly name: string = 'StorageError';
}

export class BlobNotFoundError extends StorageError {
  override readonly name = 'BlobNotFoundError';
  readonly key: string;
  constructor(key: string) {
    super(`no object under key ${key}`);
    this.key = key;
  }
}

export class InvalidKeyError extends StorageError {
  override readonly name = 'InvalidKeyError';
  readonly key: string;
  constructor(key: string) {
    super(`invalid storage key ${JSON.stringify(key)}`);
    this.key = key;
  }
}

export class RangeNotSatisfiableError extends StorageError {
  override readonly name = 'RangeNotSatisfiableError';
  readonly size: number;
  constructor(key: string, size: number) {
    super(`range not satisfiable for ${key} of ${size} bytes`);
    this.size = size;
  }
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws `InvalidKeyError` unless every '/'-separated segment is a plain name (no '..', no empty, no absolute). */
export function validateKey(key: string): string {
  if (key.length === 0 || key.length > 1024) throw new InvalidKeyError(key);
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment) || segment === '..' || segment === '.') throw new InvalidKeyError(key);
  }
  return key;
}

/** Like `validateKey`, but for list prefixes, which may be empty or end with '/'. */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
