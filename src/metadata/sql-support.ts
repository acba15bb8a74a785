/**
 * Helpers shared by the Kysely stores: atomic multi-statement operations,
 * chunked multi-row inserts, and recognising driver errors without matching
 * message text.
 */

import type { Insertable, Kysely } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Parameters per statement for multi-row inserts: well under SQLite's 32,766
 * and PostgreSQL's 65,535 bind-parameter limits.
 */
const MAX_PARAMETERS = 8000;

/**
 * Runs `fn` atomically: inside the caller's transaction when `db` already is
 * one, otherwise in a transaction of its own. Store methods that issue more
 * than one statement use this, so that they are all-or-nothing (and, on
 * SQLite, not interleaved with other callers) with or without withTransaction.
 */
export function atomic<T>(db: Kysely<Database>, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Inserts rows with as few multi-row INSERT statements as the parameter limit
 * allows, skipping rows whose key already exists. Not atomic by itself: wrap
 * it in `atomic` or a transaction when all rows must land together.
 */
export async function insertMany<T extends keyof Database & string>(
  db: Kysely<Database>,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const perRow = Math.max(1, Object.keys(first).length);
  const chunk = Math.max(1, Math.floor(MAX_PARAMETERS / perRow));
  for (let start = 0; start < rows.length; start += chunk) {
    // Kysely cannot relate a generic table name to its row type; the
    // signature above is what keeps callers honest.
    const values = rows.slice(start, start + chunk) as never;
    await db
      .insertInto(table)
      .values(values)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** True for a foreign-key violation from node:sqlite (SQLITE_CONSTRAINT_FOREIGNKEY) or pg (23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown };
  return e.code === '23503' || (e.code === 'ERR_SQLITE_ERROR' && e.errcode === 787);
}
