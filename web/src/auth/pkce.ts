/** PKCE (RFC 7636) with S256, on WebCrypto (the browser's, and Node's in tests). */

/** base64url without padding (RFC 4648 §5). */
export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random string of `bytes` random bytes, base64url-encoded (32 bytes → the 43 characters RFC 7636 §4.1 suggests). */
export function randomToken(bytes = 32): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return base64Url(buffer);
}

/** `BASE64URL(SHA256(ASCII(verifier)))` (RFC 7636 §4.2). */
export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export interface AuthorizeRequest {
  readonly origin: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly state: string;
}

/** The `/oauth/authorize` URL the browser is sent to. */
export function authorizeUrl(req: AuthorizeRequest): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: req.clientId,
    redirect_uri: req.redirectUri,
    code_challenge: req.challenge,
    code_challenge_method: 'S256',
    state: req.state,
  });
  return `${req.origin}/oauth/authorize?${query.toString()}`;
}
