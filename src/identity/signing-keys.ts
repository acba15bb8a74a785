/**
 * The keys that sign registry tokens (and later OAuth ID tokens): ES256 key
 * pairs, generated on first use, persisted through SigningKeyStore with the
 * private half sealed by the secret box, rotatable, published as a JWKS.
 *
 * Every node of an HA set shares the keys through the database. A node
 * re-reads the key list every `reloadIntervalMs` and whenever it meets an
 * unknown kid, so a key made or retired on another node is picked up without
 * a restart. The re-read is lazy: the first use of a key set older than the
 * interval starts it, and `isActive` (the cached-token check) starts it in
 * the background without waiting, so a request never waits on the database
 * for it.
 */

import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import type { SigningKeyRecord, SigningKeyStore } from '../metadata/stores.ts';
import { systemClock, type Clock } from '../registry/clock.ts';
import type { SecretBox } from './secret-box.ts';

export const SIGNING_ALGORITHM = 'ES256';
const DEFAULT_RELOAD_INTERVAL_MS = 30_000;
/** At most one reload per this long for unknown kids, so junk tokens cannot make us hammer the database. */
const UNKNOWN_KID_RELOAD_MS = 1000;
/** A failed background reload is retried no sooner than this, so a database outage is not met with a read per request. */
const BACKGROUND_RETRY_MS = 1000;

export interface SigningKeysOptions {
  readonly store: SigningKeyStore;
  readonly box: SecretBox;
  readonly clock?: Clock;
  /** How often the key list is re-read from the store. */
  readonly reloadIntervalMs?: number;
}

/** A public key of the JWKS. */
export interface PublicJwk extends JWK {
  readonly kid: string;
  readonly alg: string;
  readonly use: 'sig';
}

interface LoadedKey {
  readonly record: SigningKeyRecord;
  readonly publicKey: CryptoKey;
  readonly publicJwk: PublicJwk;
  privateKey?: Promise<CryptoKey>;
}

interface KeySet {
  readonly loadedAt: number;
  /** Newest first. */
  readonly keys: readonly LoadedKey[];
}

function sealContext(kid: string): string {
  return `signing-key:${kid}`;
}

/** The signing key set of the registry. */
export class SigningKeys {
  readonly #store: SigningKeyStore;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #reloadInterval: number;
  #set: KeySet | undefined;
  #loading: Promise<KeySet> | undefined;
  #generating: Promise<void> | undefined;
  #lastUnknownReload = Number.NEGATIVE_INFINITY;
  #lastBackgroundReload = Number.NEGATIVE_INFINITY;

  constructor(options: SigningKeysOptions) {
    this.#store = options.store;
    this.#box = options.box;
    this.#clock = options.clock ?? systemClock;
    this.#reloadInterval = options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
  }

  /**
   * The newest active key, for signing; generates the first key when there is
   * none. (Two nodes starting at once may each generate one: both are valid,
   * the newer signs.)
   */
  async signingKey(): Promise<{ kid: string; privateKey: CryptoKey }> {
    let set = await this.#current();
    if (set.keys.length === 0) {
      this.#generating ??= this.#generate().finally(() => (this.#generating = undefined));
      await this.#generating;
      set = await this.#current();
    }
    const newest = set.keys[0];
    if (newest === undefined) throw new Error('no signing key after generating one');
    newest.privateKey ??= this.#privateKeyOf(newest.record);
    return { kid: newest.record.kid, privateKey: await newest.privateKey };
  }

  /** The public key for `kid` when it is an active key, re-reading the store once for a kid not seen yet. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    const found = (await this.#current()).keys.find((k) => k.record.kid === kid);
    if (found !== undefined) return found.publicKey;
    const now = this.#clock();
    if (now - this.#lastUnknownReload < UNKNOWN_KID_RELOAD_MS) return undefined;
    this.#lastUnknownReload = now;
    return (await this.#reload()).keys.find((k) => k.record.kid === kid)?.publicKey;
  }

  /**
   * True when `kid` is in the key set as last loaded: a memory-only check,
   * for cache hits. When that set is older than the reload interval, it also
   * starts a reload in the background (at most one in flight) and answers
   * from the old set meanwhile, so a key retired on another node is refused
   * here within the reload interval plus one read of the key list, even by a
   * node that only ever meets cached tokens. A failed background reload
   * leaves the old set in place and is retried on a later call.
   */
  isActive(kid: string): boolean {
    const set = this.#set;
    if (set === undefined) return false;
    const now = this.#clock();
    if (now - set.loadedAt >= this.#reloadInterval && this.#loading === undefined && now - this.#lastBackgroundReload >= BACKGROUND_RETRY_MS) {
      this.#lastBackgroundReload = now;
      // Nobody awaits this reload: its failure must not become an unhandled rejection.
      this.#reload().catch(() => undefined);
    }
    return set.keys.some((k) => k.record.kid === kid);
  }

  /** Makes a new key the signing key; older keys keep verifying until retired. Returns the new kid. */
  async rotate(): Promise<string> {
    const kid = await this.#generateKey();
    await this.#reload();
    return kid;
  }

  /**
   * Retires a key at once: it leaves the JWKS, and tokens it signed are
   * refused from now on, here at once and on other nodes within the reload
   * interval, even those not expired yet (their clients get a 401 and fetch
   * a new token, signed by the newest remaining key). Retiring is what a
   * suspected leak calls for; to retire a key without a single refusal,
   * rotate first and retire the old key one token lifetime later.
   *
   * The only active key is never retired ('only-key'), so tokens can always
   * be signed. (Two nodes retiring the last two keys at the same moment can
   * still leave none; the next token then generates a new key.)
   *
   * @returns 'retired', 'unknown' when no active key has this kid, or 'only-key'.
   */
  async retire(kid: string): Promise<'retired' | 'unknown' | 'only-key'> {
    const active = (await this.#reload()).keys;
    if (!active.some((k) => k.record.kid === kid)) return 'unknown';
    if (active.length === 1) return 'only-key';
    const retired = await this.#store.retireKey(kid, this.#clock());
    await this.#reload();
    return retired ? 'retired' : 'unknown';
  }

  /** The active keys, newest (the signing one) first, without their private halves. */
  async list(): Promise<Array<{ kid: string; algorithm: string; createdAt: number; publicJwk: PublicJwk }>> {
    return (await this.#current()).keys.map((k) => ({ kid: k.record.kid, algorithm: k.record.algorithm, createdAt: k.record.createdAt, publicJwk: k.publicJwk }));
  }

  /** The active public keys as a JWK Set (RFC 7517), newest first. */
  async jwks(): Promise<{ keys: PublicJwk[] }> {
    return { keys: (await this.#current()).keys.map((k) => k.publicJwk) };
  }

  async #current(): Promise<KeySet> {
    const set = this.#set;
    if (set !== undefined && this.#clock() - set.loadedAt < this.#reloadInterval) return set;
    return this.#reload();
  }

  #reload(): Promise<KeySet> {
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #load(): Promise<KeySet> {
    const loadedAt = this.#clock();
    const records = await this.#store.listActiveKeys();
    const previous = new Map((this.#set?.keys ?? []).map((k) => [k.record.kid, k]));
    const keys: LoadedKey[] = [];
    for (const record of records) {
      // Keep already imported keys (and their unsealed private halves).
      const known = previous.get(record.kid);
      if (known !== undefined) {
        keys.push(known);
        continue;
      }
      const jwk = JSON.parse(record.publicJwk) as JWK;
      const publicJwk: PublicJwk = { ...jwk, kid: record.kid, alg: record.algorithm, use: 'sig' };
      keys.push({ record, publicJwk, publicKey: (await importJWK(jwk, record.algorithm)) as CryptoKey });
    }
    const set: KeySet = { loadedAt, keys };
    this.#set = set;
    return set;
  }

  async #privateKeyOf(record: SigningKeyRecord): Promise<CryptoKey> {
    const jwk = JSON.parse(this.#box.openString(record.privateJwkEncrypted, sealContext(record.kid))) as JWK;
    return (await importJWK(jwk, record.algorithm)) as CryptoKey;
  }

  async #generate(): Promise<void> {
    await this.#generateKey();
    await this.#reload();
  }

  async #generateKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    // The RFC 7638 thumbprint: a stable kid derived from the key itself.
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    await this.#store.putKey({
      kid,
      algorithm: SIGNING_ALGORITHM,
      publicJwk: JSON.stringify(publicJwk),
      privateJwkEncrypted: this.#box.seal(JSON.stringify(privateJwk), sealContext(kid)),
      // Strictly newer than the newest known key, so that "newest signs" is
      // decided by time even for two keys made within one millisecond.
      createdAt: Math.max(this.#clock(), (this.#set?.keys[0]?.record.createdAt ?? 0) + 1),
      retiredAt: null,
    });
    return kid;
  }
}
