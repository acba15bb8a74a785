/**
 * The password identity providers in the order they are asked (the local
 * users table first, then e.g. an LDAP directory), as one object. Every
 * password check goes through it: the OAuth login page and password grant,
 * and Basic credentials on /v2, /v2/token and /apis (podman login), so a
 * provider added here works for every client at once.
 */
import { IdentityProviderError, type IdentityClaims, type IdentityProvider, type PasswordIdentityProvider } from './identity-provider.ts';

/** What asking the chain gave. */
export type PasswordCheck =
  /** A provider vouched for the credentials. */
  | { readonly outcome: 'accepted'; readonly provider: string; readonly claims: IdentityClaims }
  /** Every provider refused them (wrong password, unknown or disabled user): count it as a failed login. */
  | { readonly outcome: 'refused' }
  /**
   * None vouched and at least one could not answer (directory down): the
   * credentials may be right, so the caller says "try again later" and does
   * not count a failed login.
   */
  | { readonly outcome: 'unavailable'; readonly errors: readonly IdentityProviderError[] };

export class PasswordProviderChain {
  /** The password providers, in the order they are asked. */
  readonly providers: readonly PasswordIdentityProvider[];

  /** Takes the password providers of `providers`, keeping their order; redirect providers are not asked for passwords. */
  constructor(providers: readonly IdentityProvider[]) {
    this.providers = providers.filter((p): p is PasswordIdentityProvider => p.kind === 'password');
  }

  /**
   * Asks each provider in order; the first that vouches decides. A provider
   * that throws IdentityProviderError is skipped (and reported if nobody
   * vouches); any other error propagates.
   */
  async check(username: string, password: string): Promise<PasswordCheck> {
    const errors: IdentityProviderError[] = [];
    for (const provider of this.providers) {
      try {
        const claims = await provider.authenticate(username, password);
        if (claims !== undefined) return { outcome: 'accepted', provider: provider.name, claims };
      } catch (error) {
        if (!(error instanceof IdentityProviderError)) throw error;
        errors.push(error);
      }
    }
    return errors.length > 0 ? { outcome: 'unavailable', errors } : { outcome: 'refused' };
  }
}
