/**
 * The one way the console talks to /apis: bearer token from the session,
 * one refresh on a 401, Kubernetes Status errors turned into ApiError with
 * the server's message in words.
 */
import { clearTokens, loadTokens, refreshTokens } from '../auth/session.ts';
import type { List, Status } from './types.ts';

export const API_BASE = '/apis/berth.dev/v1';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly causes: ReadonlyArray<{ message: string; field?: string }>;
  constructor(status: number, reason: string, message: string, causes: ReadonlyArray<{ message: string; field?: string }> = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.causes = causes;
  }
}

/** Listeners told when the server refused our token for good (the session is gone). */
const signedOutListeners = new Set<() => void>();
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function toError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let status: Partial<Status> | undefined;
  try {
    status = JSON.parse(text) as Partial<Status>;
  } catch {
    status = undefined;
  }
  const message = status?.message
    ?? (text && text.length < 300 && !text.trimStart().startsWith('<') ? text : `the server answered ${res.status} ${res.statusText}`.trim());
  return new ApiError(res.status, status?.reason ?? `HTTP ${res.status}`, message, status?.details?.causes ?? []);
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

/** Calls `API_BASE + path` and returns the parsed JSON answer; throws ApiError (or a network TypeError) otherwise. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const send = (token: string | undefined): Promise<Response> => fetch(`${API_BASE}/${path.replace(/^\/+/, '')}`, {
    method: options.method ?? 'GET',
    headers: {
      Accept: 'application/json',
      ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  let tokens = loadTokens();
  let res = await send(tokens?.accessToken);
  if (res.status === 401 && tokens) {
    tokens = await refreshTokens();
    if (tokens) {
      res = await send(tokens.accessToken);
    } else {
      clearTokens();
      for (const listener of signedOutListeners) listener();
      // Try again as an anonymous visitor: the page may still be public.
      res = await send(undefined);
    }
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** One page of a list: `?limit=&continue=`. */
export async function listPage<T>(path: string, limit: number, cursor: string | undefined, signal?: AbortSignal): Promise<List<T>> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (cursor) query.set('continue', cursor);
  return await api<List<T>>(`${path}${path.includes('?') ? '&' : '?'}${query.toString()}`, { signal });
}

/** Every item of a list, page by page (for search and small lists like tokens). */
export async function listAll<T>(path: string, signal?: AbortSignal, pageSize = 500): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await listPage<T>(path, pageSize, cursor, signal);
    items.push(...page.items);
    cursor = page.metadata.continue;
  } while (cursor);
  return items;
}

/** Any thrown value in words, for alerts. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const causes = error.causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).filter((c) => !error.message.includes(c));
    return [error.message, ...causes].join(' — ');
  }
  if (error instanceof TypeError) return `The server could not be reached (${error.message}).`;
  if (error instanceof Error) return error.message;
  return String(error);
}
