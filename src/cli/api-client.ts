/**
 * The CLI's HTTP client for one Berth server: the resource API (/apis) and
 * the OAuth endpoints (/oauth), nothing else (docs/api.md).
 *
 * - TLS trusts the CA file remembered at login, else the system roots.
 * - A 401 with a refresh token on file triggers one refresh
 *   (grant_type=refresh_token), saves the new tokens, and retries once.
 * - Status and OAuth error bodies become ApiError with the server's message;
 *   a failed connection becomes one CliError line naming the URL.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { ApiError, CliError } from './cli-errors.ts';
import type { StatusReason } from './cli-errors.ts';
import type { ConfigStore, ServerEntry } from './client-config.ts';
import { withServer } from './client-config.ts';
import { listSchema, oauthErrorSchema, ociErrorSchema, statusSchema, tokenResponseSchema } from './resources.ts';
import type { TokenResponse } from './resources.ts';

/** The OAuth client the CLI is registered as on every Berth (docs/api.md). */
export const CLI_CLIENT_ID = 'berth-cli';

/** How to reach a server: which CA to trust. */
export interface TlsOptions {
  /** PEM file of the CA that signed the server's certificate; system roots when absent. */
  readonly certificateAuthority?: string | undefined;
  readonly insecureSkipTlsVerify?: boolean | undefined;
}

/**
 * An undici Agent trusting `tls`.
 *
 * @throws CliError('file') when the CA file cannot be read.
 */
export async function createDispatcher(tls: TlsOptions): Promise<Agent> {
  let ca: string | undefined;
  if (tls.certificateAuthority !== undefined) {
    try {
      ca = await readFile(tls.certificateAuthority, 'utf8');
    } catch (error) {
      throw new CliError('file', `cannot read the certificate authority ${tls.certificateAuthority}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return new Agent({
    connect: {
      ...(ca === undefined ? {} : { ca }),
      ...(tls.insecureSkipTlsVerify === true ? { rejectUnauthorized: false } : {}),
    },
  });
}

const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** One line saying why `url` could not be reached, with a hint for the usual TLS trust problem. */
export function describeConnectionError(url: string, error: unknown): string {
  // undici wraps the socket error; the useful code and text are on the innermost cause.
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const err = (inner instanceof Error ? inner : new Error(String(inner))) as NodeJS.ErrnoException;
  const code = err.code ?? '';
  if (TLS_TRUST_CODES.has(code)) {
    return `cannot connect to ${url}: the server's certificate is not trusted (${err.message}); pass --certificate-authority FILE to berth login`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `cannot connect to ${url}: ${err.message.split('\n')[0]}`;
  const text = err.message.split('\n')[0] ?? code;
  return `cannot connect to ${url}: ${text === '' ? code : text}`;
}

const REASONS: ReadonlySet<string> = new Set<StatusReason>([
  'BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'AlreadyExists', 'Conflict', 'RequestEntityTooLarge', 'UnsupportedMediaType', 'Invalid',
  'TooManyRequests', 'InternalError', 'ServiceUnavailable',
]);

function reasonFor(status: number): StatusReason {
  const byStatus: Record<number, StatusReason> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 413: 'RequestEntityTooLarge',
    415: 'UnsupportedMediaType', 422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable',
  };
  return byStatus[status] ?? 'Unknown';
}

/** The ApiError for a non-2xx answer: the Status or OAuth message if there is one, else the status line. */
export function errorFromResponse(method: string, url: string, status: number, bodyText: string): ApiError {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  const asStatus = statusSchema.safeParse(json);
  if (asStatus.success && asStatus.data.message !== undefined && asStatus.data.message !== '') {
    const reason = asStatus.data.reason !== undefined && REASONS.has(asStatus.data.reason) ? (asStatus.data.reason as StatusReason) : reasonFor(status);
    const retry = asStatus.data.details?.retryAfterSeconds;
    const message = status === 429 && typeof retry === 'number' ? `${asStatus.data.message} (retry in ${retry} s)` : asStatus.data.message;
    return new ApiError(status, reason, message);
  }
  const asOAuth = oauthErrorSchema.safeParse(json);
  if (asOAuth.success) {
    return new ApiError(status, reasonFor(status), asOAuth.data.error_description ?? asOAuth.data.error);
  }
  const asOci = ociErrorSchema.safeParse(json);
  if (asOci.success && asOci.data.errors[0] !== undefined) return new ApiError(status, reasonFor(status), asOci.data.errors[0].message);
  const path = new URL(url).pathname;
  return new ApiError(status, reasonFor(status), `${method} ${path}: the server answered ${status} without an error message`);
}

/** The `{"kind":"…List"}` of all pages of a list, for output. */
export interface ListResult<T> {
  readonly kind: string;
  readonly items: T[];
}

export interface RequestOptions {
  readonly query?: Record<string, string> | undefined;
  readonly body?: unknown;
  /** Send no Authorization header (login, token checks with a token of their own). */
  readonly anonymous?: boolean | undefined;
  /** Use this bearer token instead of the stored one, and never refresh. */
  readonly token?: string | undefined;
}

/** A client for one server entry of the config. Call close() when done, or the keep-alive sockets hold the process. */
export class BerthApi {
  readonly server: string;
  readonly #store: ConfigStore;
  readonly #dispatcher: Agent;
  #entry: ServerEntry;

  constructor(store: ConfigStore, entry: ServerEntry, dispatcher: Agent) {
    this.server = entry.url;
    this.#store = store;
    this.#entry = entry;
    this.#dispatcher = dispatcher;
  }

  static async open(store: ConfigStore, entry: ServerEntry): Promise<BerthApi> {
    return new BerthApi(store, entry, await createDispatcher(entry));
  }

  /** The entry as it is now (tokens change when refreshed). */
  get entry(): ServerEntry {
    return this.#entry;
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /**
   * One JSON request to the resource API, `path` relative to the server.
   * Validates the answer with `schema`; 204 or an empty body parse as `{}`.
   *
   * @throws ApiError, CliError('connection' | 'protocol' | 'not-configured')
   */
  async json<T>(method: string, path: string, schema: z.ZodType<T>, options: RequestOptions = {}): Promise<T> {
    const text = await this.#authorized(method, path, options);
    let json: unknown = {};
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError('protocol', `${method} ${path}: the server answered something that is not JSON`);
      }
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
      throw new CliError('protocol', `${method} ${path}: unexpected answer from the server${where}: ${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  }

  /**
   * A request whose answer is newline-delimited JSON (asked for with
   * `Accept: application/x-ndjson`): `onLine` gets each line's value as soon
   * as the line has arrived. An answer that is one JSON document (a server
   * that does not stream) is one line. What `onLine` throws stops the read.
   *
   * @throws ApiError (a non-2xx answer, as json()), CliError('connection' | 'protocol' | 'not-configured')
   */
  async ndjson(method: string, path: string, onLine: (value: unknown) => void, options: RequestOptions = {}): Promise<void> {
    const response = await this.#authorizedResponse(method, path, options, 'application/x-ndjson, application/json;q=0.9');
    const emit = (text: string): void => {
      if (text.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new CliError('protocol', `${method} ${path}: the server answered a line that is not JSON`);
      }
      onLine(value);
    };
    if (!/^application\/x-ndjson\b/i.test(String(response.headers['content-type'] ?? ''))) {
      emit(await this.#read(response));
      return;
    }
    const decoder = new TextDecoder();
    let buffered = '';
    // What emit (or onLine) threw passes through as it is; only the connection's own failures are translated.
    let thrown: unknown;
    try {
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          try {
            emit(line);
          } catch (error) {
            thrown = error;
            throw error;
          }
        }
      }
    } catch (error) {
      if (error === thrown) throw error;
      throw new CliError('connection', describeConnectionError(this.server, error), { cause: error });
    }
    emit(buffered + decoder.decode());
  }

  /** Every item of a paged list, following `metadata.continue` (docs/api.md: keyset paging). */
  async list<T>(path: string, item: z.ZodType<T>, query: Record<string, string> = {}): Promise<ListResult<T>> {
    const schema = listSchema(item);
    const items: T[] = [];
    let kind = 'List';
    let cursor: string | undefined;
    // A server that hands back the same cursor forever would loop us forever.
    const seen = new Set<string>();
    for (;;) {
      const page = await this.json('GET', path, schema, { query: { ...query, limit: '500', ...(cursor === undefined ? {} : { continue: cursor }) } });
      kind = page.kind ?? kind;
      items.push(...(page.items as T[]));
      const next = page.metadata?.continue;
      if (next === undefined || next === null || next === '') break;
      if (seen.has(next)) throw new CliError('protocol', `GET ${path}: the server repeated the continue cursor ${next}`);
      seen.add(next);
      cursor = next;
    }
    return { kind, items };
  }

  /**
   * A form POST to /oauth/token with client_id=berth-cli.
   *
   * @throws ApiError with the server's error_description (e.g. a wrong password).
   */
  async token(form: Record<string, string>): Promise<TokenResponse> {
    const { status, text } = await this.#send('POST', '/oauth/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ ...form, client_id: CLI_CLIENT_ID }).toString(),
    });
    if (status < 200 || status >= 300) throw errorFromResponse('POST', `${this.server}/oauth/token`, status, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError('protocol', 'POST /oauth/token: the server answered something that is not JSON');
    }
    const parsed = tokenResponseSchema.safeParse(json);
    if (!parsed.success) throw new CliError('protocol', 'POST /oauth/token: the answer has no access_token');
    return parsed.data;
  }

  /** RFC 7009 revocation of one access or refresh token. */
  async revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
    const { status, text } = await this.#send('POST', '/oauth/revoke', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token, token_type_hint: hint, client_id: CLI_CLIENT_ID }).toString(),
    });
    if (status < 200 || status >= 300) throw errorFromResponse('POST', `${this.server}/oauth/revoke`, status, text);
  }

  async #authorized(method: string, path: string, options: RequestOptions): Promise<string> {
    return await this.#read(await this.#authorizedResponse(method, path, options, 'application/json'));
  }

  /** The answer of a 2xx, its body not yet read; anything else thrown (with one refresh on a 401, as documented above). */
  async #authorizedResponse(method: string, path: string, options: RequestOptions, accept: string): Promise<Dispatcher.ResponseData> {
    const url = withQuery(path, options.query);
    const headers: Record<string, string> = { accept };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const token = options.token ?? (options.anonymous === true ? undefined : this.#requireToken());
    const attempt = async (bearer: string | undefined) =>
      await this.#open(method, url, { headers: bearer === undefined ? headers : { ...headers, authorization: `Bearer ${bearer}` }, body });
    let response = await attempt(token);
    if (response.statusCode === 401 && options.token === undefined && options.anonymous !== true && this.#entry.refreshToken !== undefined) {
      await this.#read(response);
      await this.#refresh();
      response = await attempt(this.#entry.accessToken);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    const answer = { status: response.statusCode, text: await this.#read(response) };
    const error = errorFromResponse(method, `${this.server}${url}`, answer.status, answer.text);
    if (answer.status === 401 && options.token === undefined && options.anonymous !== true) {
      throw new CliError('not-configured', `${error.message}; run \`berth login ${this.server}\``);
    }
    throw error;
  }

  #requireToken(): string {
    const token = this.#entry.accessToken;
    if (token === undefined) throw new CliError('not-configured', `not logged in to ${this.server}: run \`berth login ${this.server}\``);
    return token;
  }

  /** Trades the refresh token for new tokens and saves them; a refused refresh means the session is over. */
  async #refresh(): Promise<void> {
    const refreshToken = this.#entry.refreshToken;
    if (refreshToken === undefined) return;
    let tokens: TokenResponse;
    try {
      tokens = await this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        throw new CliError('not-configured', `the session on ${this.server} has expired (${error.message}): log in again with \`berth login ${this.server}\``);
      }
      throw error;
    }
    // A server may keep the refresh token (RFC 6749 section 6): then the old one stays valid.
    const patch = { accessToken: tokens.access_token, refreshToken: tokens.refresh_token ?? refreshToken };
    this.#entry = { ...this.#entry, ...patch };
    await this.#store.update((config) => withServer(config, this.server, patch));
  }

  async #send(method: string, pathAndQuery: string, init: { headers: Record<string, string>; body?: string | undefined }): Promise<{ status: number; text: string }> {
    const response = await this.#open(method, pathAndQuery, init);
    return { status: response.statusCode, text: await this.#read(response) };
  }

  /** Sends a request; the answer's body is the caller's to read. */
  async #open(method: string, pathAndQuery: string, init: { headers: Record<string, string>; body?: string | undefined }): Promise<Dispatcher.ResponseData> {
    try {
      return await request(`${this.server}${pathAndQuery}`, {
        method: method as Dispatcher.HttpMethod,
        headers: init.headers,
        ...(init.body === undefined ? {} : { body: init.body }),
        dispatcher: this.#dispatcher,
      });
    } catch (error) {
      throw new CliError('connection', describeConnectionError(this.server, error), { cause: error });
    }
  }

  async #read(response: Dispatcher.ResponseData): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      throw new CliError('connection', describeConnectionError(this.server, error), { cause: error });
    }
  }
}

function withQuery(path: string, query: Record<string, string> | undefined): string {
  if (query === undefined || Object.keys(query).length === 0) return path;
  return `${path}?${new URLSearchParams(query).toString()}`;
}

/** `/apis/berth.dev/v1/…` with every segment percent-encoded. */
export function apiPath(...segments: string[]): string {
  return `/apis/berth.dev/v1/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}
