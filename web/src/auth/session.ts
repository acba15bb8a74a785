/**
 * The signed-in session: tokens in sessionStorage (per tab, gone when the tab
 * closes; never localStorage, never a URL), the PKCE round trip, refresh and
 * sign-out. Framework-free; React sees it through session-context.tsx.
 */
import type { TokenResponse } from '../api/types.ts';
import { paths } from '../lib/routes.ts';
import { authorizeUrl, randomToken, s256Challenge } from './pkce.ts';

export const CLIENT_ID = 'berth-console';
const TOKENS_KEY = 'berth.console.tokens';
const PENDING_KEY = 'berth.console.pending-login';

export interface StoredTokens {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

interface PendingLogin {
  readonly state: string;
  readonly verifier: string;
  readonly returnTo: string;
}

export function redirectUri(): string {
  return `${window.location.origin}${paths.callback()}`;
}

export function loadTokens(): StoredTokens | undefined {
  const raw = sessionStorage.getItem(TOKENS_KEY);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as StoredTokens;
    return typeof parsed.accessToken === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function saveTokens(answer: TokenResponse): StoredTokens {
  const tokens: StoredTokens = {
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    expiresAt: Date.now() + answer.expires_in * 1000,
  };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return tokens;
}

export function clearTokens(): void {
  sessionStorage.removeItem(TOKENS_KEY);
}

/** Sends the browser to the OAuth server's login page; it comes back to /console/callback. */
export async function beginSignIn(returnTo: string): Promise<void> {
  const verifier = randomToken(32);
  const state = randomToken(16);
  const pending: PendingLogin = { state, verifier, returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(authorizeUrl({
    origin: window.location.origin,
    clientId: CLIENT_ID,
    redirectUri: redirectUri(),
    challenge: await s256Challenge(verifier),
    state,
  }));
}

/** An OAuth error answer (`{"error","error_description"}`) in words. */
export class OAuthError extends Error {
  readonly code: string;
  constructor(code: string, description: string | undefined) {
    super(description ? `${description} (${code})` : code);
    this.name = 'OAuthError';
    this.code = code;
  }
}

async function tokenRequest(form: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch('/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
  if (!res.ok || typeof body.access_token !== 'string') {
    throw new OAuthError(body.error ?? `HTTP ${res.status}`, body.error_description ?? (res.ok ? 'no access token in the answer' : res.statusText));
  }
  return body as TokenResponse;
}

let completing: Promise<string> | undefined;

/**
 * Finishes the login on /console/callback: checks `state`, trades the code
 * for tokens (once, even if called twice) and returns where to go next.
 */
export function completeSignIn(search: string): Promise<string> {
  completing ??= (async () => {
    const query = new URLSearchParams(search);
    const raw = sessionStorage.getItem(PENDING_KEY);
    const pending = raw ? (JSON.parse(raw) as PendingLogin) : undefined;
    const error = query.get('error');
    if (error) throw new OAuthError(error, query.get('error_description') ?? undefined);
    if (!pending) throw new OAuthError('invalid_request', 'this browser tab did not start a sign-in (or it already finished); sign in again');
    if (query.get('state') !== pending.state) throw new OAuthError('invalid_request', 'the sign-in answer does not belong to this tab (state mismatch); sign in again');
    const code = query.get('code');
    if (!code) throw new OAuthError('invalid_request', 'the sign-in answer has no authorization code');
    sessionStorage.removeItem(PENDING_KEY);
    saveTokens(await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
      client_id: CLIENT_ID,
    }));
    return pending.returnTo;
  })();
  const attempt = completing;
  attempt.catch(() => { if (completing === attempt) completing = undefined; });
  return attempt;
}

let refreshing: Promise<StoredTokens | undefined> | undefined;

/** Trades the refresh token for a new pair (rotation); undefined (and signed out) when that fails. */
export function refreshTokens(): Promise<StoredTokens | undefined> {
  refreshing ??= (async () => {
    const current = loadTokens();
    if (!current?.refreshToken) return undefined;
    try {
      return saveTokens(await tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken, client_id: CLIENT_ID }));
    } catch {
      clearTokens();
      return undefined;
    }
  })().finally(() => { refreshing = undefined; });
  return refreshing;
}

/** Revokes the login at the server (the refresh token revokes every token of it) and forgets it here. */
export async function signOut(): Promise<void> {
  const tokens = loadTokens();
  clearTokens();
  if (!tokens) return;
  const revoke = (token: string): Promise<Response> => fetch('/oauth/revoke', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: CLIENT_ID }).toString(),
  });
  await Promise.allSettled([
    revoke(tokens.accessToken),
    ...(tokens.refreshToken ? [revoke(tokens.refreshToken)] : []),
  ]);
}
