import type { UserStore } from '../metadata/stores.ts';
import type { IdentityClaims, PasswordIdentityProvider } from './identity-provider.ts';
import { verifyPassword } from './passwords.ts';

export interface LocalIdentityProviderOptions {
  readonly users: UserStore;
  /** Defaults to `local`. */
  readonly name?: string;
  /** Defaults to `Berth users`. */
  readonly displayName?: string;
}

/**
 * The built-in provider: users of Berth's own users table, with bcrypt
 * password hashes (htpasswd-compatible, see passwords.ts). Disabled users
 * and users without a password (external-provider users) are refused.
 */
export class LocalIdentityProvider implements PasswordIdentityProvider {
  readonly kind = 'password';
  readonly name: string;
  readonly displayName: string;
  readonly #users: UserStore;

  constructor(options: LocalIdentityProviderOptions) {
    this.#users = options.users;
    this.name = options.name ?? 'local';
    this.displayName = options.displayName ?? 'Berth users';
  }

  /** See {@link PasswordIdentityProvider.authenticate}; never throws for bad credentials. */
  async authenticate(username: string, password: string): Promise<IdentityClaims | undefined> {
    const record = username === '' ? undefined : await this.#users.getUser(username);
    // verifyPassword compares against a dummy hash when there is no usable hash,
    // so unknown, disabled and password-less users take as long as a wrong password.
    const ok = await verifyPassword(password, record === undefined || record.disabled ? null : record.passwordHash);
    if (!ok || record === undefined || record.disabled) return undefined;
    return { userName: record.name };
  }
}
