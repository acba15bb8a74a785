/**
 * OAuth clients the server knows. All are public clients (RFC 6749 §2.1:
 * they run on the user's machine or in the browser and cannot keep a
 * secret), so PKCE S256 is required for every authorization-code grant.
 */

/** The grant types the token endpoint implements. */
export const OAUTH_GRANT_TYPES = ['authorization_code', 'refresh_token', 'password'] as const;
export type OAuthGrantType = (typeof OAUTH_GRANT_TYPES)[number];

/** A registered client. */
export interface OAuthClient {
  /** The `client_id`. */
  readonly id: string;
  /** Shown on the login page ("Sign in to … for <name>"). */
  readonly displayName: string;
  /**
   * Always `public` for now: confidential clients (with a secret) are not
   * supported, so the token endpoint authenticates no client.
   */
  readonly type: 'public';
  /**
   * Redirect URIs, compared exactly (scheme, host, port, path and query;
   * fragments are never allowed). A loopback URI (`http://127.0.0.1/…`,
   * `http://[::1]/…`, `http://localhost/…`) of a client with
   * `loopbackAnyPort` matches with any port, as RFC 8252 §7.3 asks for
   * native apps that listen on an ephemeral port.
   */
  readonly redirectUris: readonly string[];
  /** See {@link redirectUris}. */
  readonly loopbackAnyPort: boolean;
  /** Grants the client may use at the token endpoint. */
  readonly grantTypes: readonly OAuthGrantType[];
}

/** The client id of the `berth` command. */
export const CLI_CLIENT_ID = 'berth-cli';
/** The client id of the web console. */
export const CONSOLE_CLIENT_ID = 'berth-console';

/**
 * The built-in clients: `berth-cli` (browser login through a loopback
 * listener on any port, plus the password grant for `berth login -u -p`)
 * and `berth-console` (its callback under the server's own URL).
 * @param serverUrl the server's external URL, e.g. `https://registry.example.com:5000`.
 */
export function defaultOAuthClients(serverUrl: string): OAuthClient[] {
  const base = serverUrl.replace(/\/+$/, '');
  return [
    {
      id: CLI_CLIENT_ID,
      displayName: 'the berth command',
      type: 'public',
      redirectUris: ['http://127.0.0.1/callback', 'http://[::1]/callback', 'http://localhost/callback'],
      loopbackAnyPort: true,
      grantTypes: ['authorization_code', 'refresh_token', 'password'],
    },
    {
      id: CONSOLE_CLIENT_ID,
      displayName: 'the Berth console',
      type: 'public',
      redirectUris: [`${base}/console/callback`],
      loopbackAnyPort: false,
      grantTypes: ['authorization_code', 'refresh_token'],
    },
  ];
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/**
 * True when `redirectUri` is one the client registered (see
 * {@link OAuthClient.redirectUris} for the rules). Only absolute http(s)
 * URIs without a fragment or credentials can match.
 */
export function isRegisteredRedirect(client: OAuthClient, redirectUri: string): boolean {
  const given = parse(redirectUri);
  if (given === undefined || given.hash !== '' || redirectUri.includes('#') || given.username !== '' || given.password !== '') return false;
  if (given.protocol !== 'http:' && given.protocol !== 'https:') return false;
  return client.redirectUris.some((registered) => {
    if (registered === redirectUri) return true;
    const want = parse(registered);
    if (want === undefined || !client.loopbackAnyPort || want.protocol !== 'http:' || !LOOPBACK_HOSTS.has(want.hostname)) return false;
    // Compare the raw strings with the port removed from both, so that no
    // URL normalisation (dot segments, case, encoding) can widen the match.
    const withoutPort = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}${u.search}`;
    return given.protocol === 'http:' && withoutPort(given) === withoutPort(want) && redirectUri === `${given.protocol}//${given.host}${given.pathname}${given.search}`;
  });
}
