/**
 * The OAuth server's HTML pages, rendered on the server: no scripts, no
 * external assets (the CSP in plugin.ts forbids both), labelled form
 * controls, errors announced with role="alert". Every interpolated value
 * goes through {@link escapeHtml}.
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; place-items: center; min-height: 100vh; background: Canvas; color: CanvasText; }
  main { width: min(28rem, 92vw); padding: 2rem; border: 1px solid GrayText; border-radius: .5rem; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input[type=text], input[type=password] { box-sizing: border-box; width: 100%; padding: .5rem; margin-top: .25rem; font: inherit; }
  button { margin-top: 1.5rem; padding: .5rem 1.25rem; font: inherit; cursor: pointer; }
  .alert { padding: .75rem; border-left: .25rem solid #c9190b; background: color-mix(in srgb, #c9190b 12%, Canvas); }
  pre, code { font-family: ui-monospace, monospace; }
  pre { white-space: pre-wrap; word-break: break-all; padding: .75rem; border: 1px solid GrayText; border-radius: .25rem; }
  .hint { color: GrayText; font-size: .9rem; }
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Berth</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function alert(message: string | undefined): string {
  return message === undefined ? '' : `<p class="alert" role="alert">${escapeHtml(message)}</p>\n`;
}

export interface LoginPageModel {
  /** Where the form posts (`/oauth/authorize` or `/oauth/token/request`). */
  readonly action: string;
  /** The pending login's opaque id, sent back as the `csrf_token` field. */
  readonly csrfToken: string;
  /** Who is asking, e.g. "the berth command"; omitted on the token request page. */
  readonly clientName?: string;
  /** Prefilled user name after a failed attempt. */
  readonly username?: string;
  readonly error?: string;
  /** Display names of the password providers, for the hint under the form. */
  readonly providers: readonly string[];
}

/** The login form of every password provider. */
export function loginPage(model: LoginPageModel): string {
  const purpose = model.clientName === undefined
    ? '<p>Sign in to get an access token for the <code>berth</code> command.</p>'
    : `<p>Sign in to continue to ${escapeHtml(model.clientName)}.</p>`;
  const errorId = model.error === undefined ? '' : ' aria-describedby="login-error"';
  return layout('Sign in', `<h1>Sign in to Berth</h1>
${purpose}
${model.error === undefined ? '' : `<p class="alert" role="alert" id="login-error">${escapeHtml(model.error)}</p>`}
<form method="post" action="${escapeHtml(model.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(model.csrfToken)}">
<label for="username">User name</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required${model.username === undefined ? ' autofocus' : ''} value="${escapeHtml(model.username ?? '')}"${errorId}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${model.username === undefined ? '' : ' autofocus'}${errorId}>
<button type="submit">Sign in</button>
</form>
<p class="hint">${escapeHtml(model.providers.join(', '))}</p>`);
}

/** A page that ends the flow: unknown client or redirect URI, an expired login, a bad request. */
export function errorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n${alert(message)}<p class="hint">Start again from the application that sent you here.</p>`);
}

export interface TokenPageModel {
  readonly userName: string;
  readonly token: string;
  /** The server URL the command should name. */
  readonly serverUrl: string;
  /** When the token expires, ms since the epoch. */
  readonly expiresAt: number;
}

/** Shows a new access token and the command that uses it. */
export function tokenPage(model: TokenPageModel): string {
  const command = `berth login --token=${model.token} ${model.serverUrl}`;
  return layout('Your access token', `<h1>Your access token</h1>
<p>Signed in as <strong>${escapeHtml(model.userName)}</strong>. This token is shown only once.</p>
<h2 id="token-label">Token</h2>
<pre aria-labelledby="token-label"><code>${escapeHtml(model.token)}</code></pre>
<h2 id="command-label">Log in with it</h2>
<pre aria-labelledby="command-label"><code>${escapeHtml(command)}</code></pre>
<p class="hint">It expires at ${escapeHtml(new Date(model.expiresAt).toISOString())}. Revoke it with <code>berth logout</code>.</p>`);
}
