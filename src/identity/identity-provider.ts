/**
 * Identity providers: where a login proves who someone is. The OAuth server
 * (http/oauth) asks its providers, in order, and issues tokens for the user
 * name the first one vouches for; what that user may do is decided later by
 * the authorizer from role bindings, never by the provider.
 *
 * Two kinds, so that the login page knows what to draw:
 * - `password`: the page shows a user name and password form and the server
 *   checks them (the local users table now; LDAP bind later).
 * - `redirect`: the page shows a button that sends the browser to the
 *   provider and back (OpenID Connect later). Only the contract exists yet:
 *   no redirect provider is implemented, and the OAuth plugin ignores them.
 *
 * A discriminated union rather than one interface with optional methods, so
 * a caller that has checked `kind` gets the methods it needs without
 * `undefined` checks, and no provider carries methods that do nothing.
 */

/** Who a provider says the person is. */
export interface IdentityClaims {
  /**
   * The Berth user name the identity maps to. For the local provider it is
   * the users-table name; external providers map their subject to it (and,
   * when provisioning exists, create the user row).
   */
  readonly userName: string;
  /**
   * Groups the provider asserts (e.g. LDAP `memberOf`). Informational for
   * now: principals take their groups from the users table at each request.
   */
  readonly groups?: readonly string[];
}

/**
 * The provider cannot answer right now (directory down, misconfigured):
 * not the same as wrong credentials, which are `undefined`. The login page
 * says "try again later" and the failure is not counted against the user.
 */
export class IdentityProviderError extends Error {
  override readonly name = 'IdentityProviderError';
  /** The provider's `name`. */
  readonly provider: string;
  constructor(provider: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.provider = provider;
  }
}

interface IdentityProviderBase {
  /** Stable, unique among the configured providers (`local`, `corp-ldap`); used in logs and URLs. */
  readonly name: string;
  /** What the login page shows for it ("Local users", "Corporate directory"). */
  readonly displayName: string;
}

/** A provider that checks a user name and password itself. */
export interface PasswordIdentityProvider extends IdentityProviderBase {
  readonly kind: 'password';
  /**
   * Checks the credentials. Resolves `undefined` for any refusal (unknown
   * user, wrong password, disabled user) without saying which, and should
   * take about as long in each case so timing does not tell either.
   * Rate limiting is the caller's job.
   * @throws IdentityProviderError when the provider cannot decide (e.g. its backend is unreachable).
   */
  authenticate(username: string, password: string): Promise<IdentityClaims | undefined>;
}

/** What a redirect provider needs to start a browser login. */
export interface BeginLoginRequest {
  /** Where the provider must send the browser back to (Berth's callback for this provider). */
  readonly callbackUrl: string;
  /** Opaque value Berth will get back in the callback, tying it to the pending authorization (CSRF). */
  readonly state: string;
}

/** Where to send the browser, and what to remember until it comes back. */
export interface BeginLoginResult {
  /** The provider's authorization URL, with its own state, nonce and PKCE challenge. */
  readonly redirectUrl: string;
  /**
   * Provider-private values (nonce, PKCE verifier) that Berth stores with the
   * pending authorization and hands back to {@link RedirectIdentityProvider.completeLogin}.
   */
  readonly pending: Readonly<Record<string, string>>;
}

/** What came back to Berth's callback URL. */
export interface CompleteLoginRequest {
  /** The callback's query parameters, as received. */
  readonly query: Readonly<Record<string, string>>;
  /** The `pending` values returned by beginLogin for this login. */
  readonly pending: Readonly<Record<string, string>>;
  /** The callback URL given to beginLogin (token requests must repeat it). */
  readonly callbackUrl: string;
}

/**
 * A provider that logs the browser in elsewhere (OpenID Connect). Contract
 * only: nothing implements it yet, and the OAuth plugin does not offer such
 * providers on its login page until one does.
 */
export interface RedirectIdentityProvider extends IdentityProviderBase {
  readonly kind: 'redirect';
  /** Builds the provider's authorization URL. */
  beginLogin(request: BeginLoginRequest): Promise<BeginLoginResult>;
  /**
   * Exchanges the callback for an identity (code exchange, ID token checks).
   * Resolves `undefined` when the provider refused the login (user cancelled, access denied).
   * @throws IdentityProviderError when the provider cannot be reached or answers wrongly.
   */
  completeLogin(request: CompleteLoginRequest): Promise<IdentityClaims | undefined>;
}

/** Any identity provider; switch on `kind`. */
export type IdentityProvider = PasswordIdentityProvider | RedirectIdentityProvider;
