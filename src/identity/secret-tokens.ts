import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque secrets handed to clients. The prefix tells, without a database
 * lookup, which kind a presented secret claims to be (and lets secret
 * scanners recognise leaked ones); only the sha256 of a secret is stored.
 */
export const SECRET_PREFIXES = {
  serviceAccount: 'berth_sa_',
  accessToken: 'berth_at_',
  refreshToken: 'berth_rt_',
} as const;

export type SecretKind = keyof typeof SECRET_PREFIXES;

export interface NewSecret {
  /** Shown to the client once, never stored. */
  readonly secret: string;
  /** What is stored and looked up. */
  readonly hash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newSecret(kind: SecretKind): NewSecret {
  const secret = `${SECRET_PREFIXES[kind]}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashSecret(secret) };
}

/** The kind a presented secret claims to be, or undefined for anything else (a password). */
export function secretKind(presented: string): SecretKind | undefined {
  for (const [kind, prefix] of Object.entries(SECRET_PREFIXES) as [SecretKind, string][]) {
    if (presented.startsWith(prefix)) return kind;
  }
  return undefined;
}
