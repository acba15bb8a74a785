/**
 * `berth login --web`: the OAuth 2 authorization-code flow with PKCE
 * (RFC 7636, S256) and a loopback redirect (RFC 8252 section 7.3). The CLI
 * listens on 127.0.0.1 on a free port, prints the authorization URL, and
 * trades the code that the browser brings back for tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BerthApi } from './api-client.ts';
import { CLI_CLIENT_ID } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import type { TokenResponse } from './resources.ts';

/** A PKCE verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  // 32 random bytes give a 43-character verifier, the minimum RFC 7636 allows, with 256 bits of entropy.
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export interface WebLoginOptions {
  /** Told the URL the user must open (printed by the command). */
  readonly onUrl: (url: string) => void;
  /** Give up after this long (default 5 minutes). */
  readonly timeoutMs?: number;
}

const PAGE = (title: string, text: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Runs the flow against `api`'s server and returns the tokens.
 *
 * @throws CliError('aborted') on timeout or when the server redirects back with an error;
 *   ApiError when the code exchange is refused.
 */
export async function webLogin(api: BerthApi, options: WebLoginOptions): Promise<TokenResponse> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString('base64url');
  let settle: { resolve: (code: string) => void; reject: (error: Error) => void } | undefined;
  const codePromise = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });

  const listener = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    // Another page (or another site) could hit the listener: only our state completes the flow.
    if (url.searchParams.get('state') !== state) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('Login failed', 'The state parameter does not match this login. Start again with berth login --web.'));
      return;
    }
    // The `iss` parameter (RFC 9207) is not checked: it defends clients that talk to several
    // authorization servers at once, and this flow talks to one; state and PKCE bind the answer to it.
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (error !== null || code === null) {
      const description = url.searchParams.get('error_description') ?? error ?? 'no authorization code';
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('Login failed', escapeHtml(description)));
      settle?.reject(new CliError('aborted', `the server refused the login: ${description}`));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('Logged in', 'You are logged in to Berth. You can close this window and return to the terminal.'));
    settle?.resolve(code);
  });

  await new Promise<void>((resolve, reject) => {
    listener.once('error', (error) => reject(new CliError('connection', `cannot listen on 127.0.0.1 for the login redirect: ${error.message}`)));
    listener.listen(0, '127.0.0.1', resolve);
  });
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const timer = setTimeout(() => settle?.reject(new CliError('aborted', `no login within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  try {
    const port = (listener.address() as AddressInfo).port;
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const authorize = new URL('/oauth/authorize', api.server);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: CLI_CLIENT_ID,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    }).toString();
    options.onUrl(authorize.toString());
    const code = await codePromise;
    return await api.token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  } finally {
    clearTimeout(timer);
    listener.closeAllConnections();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}
