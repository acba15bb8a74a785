/**
 * `?limit=N&continue=<cursor>` of every list. Cursors are keyset: the opaque
 * form of the last key of the page before, so a page never repeats or skips
 * an item that existed throughout, whatever was added or deleted meanwhile.
 */

import type { FastifyRequest } from 'fastify';
import { ApiError } from './status.ts';

/** Items per page when the client does not say. */
export const DEFAULT_PAGE_LIMIT = 500;
/** The most items one page holds, whatever the client asks. */
export const MAX_PAGE_LIMIT = 1000;

export interface PageRequest {
  readonly limit: number;
  /** The key after which this page starts; undefined for the first page. */
  readonly after: string | undefined;
}

/** One query parameter; a repeated parameter is refused rather than guessed at. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, string | string[] | undefined>)[name];
  if (Array.isArray(value)) {
    throw new ApiError('BadRequest', `query parameter ${name} given more than once`, { causes: [{ reason: 'FieldValueDuplicate', message: 'given more than once', field: name }] });
  }
  return value;
}

function badParam(field: string, message: string): ApiError {
  return new ApiError('BadRequest', `${field}: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field }] });
}

/** Reads `limit` and `continue`. @throws ApiError BadRequest naming the parameter. */
export function pageRequest(request: FastifyRequest): PageRequest {
  const limitText = queryParam(request, 'limit');
  let limit = DEFAULT_PAGE_LIMIT;
  if (limitText !== undefined && limitText !== '') {
    if (!/^\d{1,9}$/.test(limitText) || Number(limitText) < 1) throw badParam('limit', `must be a whole number from 1 (at most ${MAX_PAGE_LIMIT} are returned)`);
    limit = Math.min(Number(limitText), MAX_PAGE_LIMIT);
  }
  const cursor = queryParam(request, 'continue');
  if (cursor === undefined || cursor === '') return { limit, after: undefined };
  return { limit, after: decodeCursor(cursor) };
}

/** The opaque `continue` value for a page that ended at `key`. */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && 'after' in parsed && typeof parsed.after === 'string' && parsed.after !== '') return parsed.after;
  throw badParam('continue', 'is not a continue token this server issued: pass the value from the previous page unchanged');
}

/** A page of a list held in memory; `items` must be in ascending order of `key`. */
export function pageOfSorted<T>(items: readonly T[], key: (item: T) => string, page: PageRequest): { items: T[]; next: string | undefined } {
  const rest = page.after === undefined ? items : items.filter((item) => key(item) > (page.after as string));
  if (rest.length <= page.limit) return { items: [...rest], next: undefined };
  const slice = rest.slice(0, page.limit);
  const last = slice.at(-1);
  return { items: slice, next: last === undefined ? undefined : key(last) };
}
