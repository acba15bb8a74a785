import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type {
  ImageStreamCondition,
  ImageStreamRecord,
  ImageStreamSpec,
  ImageStreamStore,
  NewTagItem,
  Page,
  StreamPage,
  StreamTagItems,
  StreamTagRecord,
  TagHistoryPrune,
  TagItemPage,
  TagItemRecord,
} from './stores.ts';
import type { Database, ImageStreamsTable, ImageStreamTagItemsTable, SqlDialect } from './schema.ts';
import { MetadataError } from './errors.ts';
import { atomic } from './sql-support.ts';

/** A write or read needed an image stream that does not exist. */
export class ImageStreamNotFoundError extends MetadataError {
  override readonly name = 'ImageStreamNotFoundError';
  readonly project: string;
  readonly stream: string;
  constructor(project: string, stream: string) {
    super(`image stream ${project}/${stream} does not exist`);
    this.project = project;
    this.stream = stream;
  }
}

/** An update carried a resourceVersion that is no longer the stream's (someone else changed it first). */
export class ImageStreamConflictError extends MetadataError {
  override readonly name = 'ImageStreamConflictError';
  readonly project: string;
  readonly stream: string;
  readonly expectedResourceVersion: number;
  constructor(project: string, stream: string, expectedResourceVersion: number) {
    super(`image stream ${project}/${stream} has changed since resourceVersion ${expectedResourceVersion}: read it again and retry`);
    this.project = project;
    this.stream = stream;
    this.expectedResourceVersion = expectedResourceVersion;
  }
}

/** A tag's history has no item with that generation. */
export class TagItemNotFoundError extends MetadataError {
  override readonly name = 'TagItemNotFoundError';
  readonly project: string;
  readonly stream: string;
  readonly tag: string;
  readonly generation: number;
  constructor(project: string, stream: string, tag: string, generation: number) {
    super(`tag ${tag} of image stream ${project}/${stream} has no history item ${generation}`);
    this.project = project;
    this.stream = stream;
    this.tag = tag;
    this.generation = generation;
  }
}

const STREAM_COLUMNS = [
  'project',
  'name',
  'uid',
  'created_at',
  'generation',
  'resource_version',
  'spec',
  'annotations',
  'status_conditions',
  'next_import_at',
  'import_lease_owner',
  'import_lease_until',
  'import_generation',
] as const;

const ITEM_COLUMNS = [
  'project',
  'stream',
  'tag',
  'generation',
  'created_at',
  'image_digest',
  'docker_image_reference',
  'source_kind',
  'source_ref',
] as const;

type ItemColumn = (typeof ITEM_COLUMNS)[number];
/** ITEM_COLUMNS of the items table joined as `i`, under their own names. */
const JOINED_ITEM_COLUMNS = ITEM_COLUMNS.map((column) => `i.${column} as ${column}`) as ReadonlyArray<{ [C in ItemColumn]: `i.${C} as ${C}` }[ItemColumn]>;

function toStream(row: Selectable<ImageStreamsTable>): ImageStreamRecord {
  // The JSON columns are written only by this store, from these types.
  return {
    project: row.project,
    name: row.name,
    uid: row.uid,
    createdAt: row.created_at,
    generation: row.generation,
    resourceVersion: row.resource_version,
    spec: JSON.parse(row.spec) as ImageStreamSpec,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    conditions: JSON.parse(row.status_conditions) as ImageStreamCondition[],
    nextImportAt: row.next_import_at,
    importLeaseOwner: row.import_lease_owner,
    importLeaseUntil: row.import_lease_until,
    importedGeneration: row.import_generation,
  };
}

function toItem(row: Selectable<ImageStreamTagItemsTable>): TagItemRecord {
  return {
    project: row.project,
    stream: row.stream,
    tag: row.tag,
    generation: row.generation,
    createdAt: row.created_at,
    imageDigest: row.image_digest,
    dockerImageReference: row.docker_image_reference,
    sourceKind: row.source_kind,
    sourceRef: row.source_ref,
  };
}

/** True when no process holds the import lease at `now` (never leased, or expired). */
function leaseFree(now: number) {
  return sql<boolean>`(import_lease_until is null or import_lease_until <= ${now})`;
}

/**
 * ImageStreamStore on Kysely.
 *
 * Every write that changes what a client sees bumps the stream row's
 * resource_version first: on PostgreSQL that UPDATE takes the stream's row
 * lock, so concurrent changes to one stream (two pushes to one tag) are
 * ordered and each computes its generation from the other's committed row.
 * (SQLite has one writer at a time.) Import bookkeeping (schedule, lease)
 * does not bump it, so a client's update never conflicts with the scheduler.
 */
/**
 * Takes the stream's row lock (PostgreSQL; SQLite has one writer at a time)
 * for the rest of `db`'s transaction. Lock order: every write to a stream's
 * tags or history takes this row first (addTagItem and setCurrentItem by
 * updating it, putSpec likewise, deleteTag, pruneTagHistory and the
 * importer's lockStream through here), then tag and item rows, so writers
 * of one stream never deadlock. False when there is no such stream.
 */
export async function lockStreamRow(db: Kysely<Database>, dialect: SqlDialect, project: string, name: string): Promise<boolean> {
  if (dialect !== 'postgres') return true;
  const locked = await db.selectFrom('image_streams').select('uid').where('project', '=', project).where('name', '=', name).forUpdate().executeTakeFirst();
  return locked !== undefined;
}

export class KyselyImageStreamStore implements ImageStreamStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async ensureStream(project: string, name: string, now: number): Promise<ImageStreamRecord> {
    await this.#insertStream(project, name, now, {}, {});
    // Read back: a concurrent first push may have created it; its record stays.
    // (Undefined only if a concurrent delete won the race.)
    const stored = await this.getStream(project, name);
    if (stored === undefined) throw new ImageStreamNotFoundError(project, name);
    return stored;
  }

  async createStream(
    project: string,
    name: string,
    now: number,
    spec: ImageStreamSpec,
    annotations: Readonly<Record<string, string>>,
  ): Promise<ImageStreamRecord | undefined> {
    return atomic(this.#db, async (db) => {
      const store = new KyselyImageStreamStore(db, this.#dialect);
      if (!(await store.#insertStream(project, name, now, spec, annotations))) return undefined;
      return store.getStream(project, name);
    });
  }

  async #insertStream(
    project: string,
    name: string,
    now: number,
    spec: ImageStreamSpec,
    annotations: Readonly<Record<string, string>>,
  ): Promise<boolean> {
    const inserted = await this.#db
      .insertInto('image_streams')
      .values({
        project,
        name,
        uid: randomUUID(),
        created_at: now,
        generation: 1,
        resource_version: 1,
        spec: JSON.stringify(spec),
        annotations: JSON.stringify(annotations),
        status_conditions: '[]',
        next_import_at: null,
        import_lease_owner: null,
        import_lease_until: null,
        import_generation: null,
      })
      .onConflict((oc) => oc.columns(['project', 'name']).doNothing())
      .executeTakeFirst();
    return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async getStream(project: string, name: string): Promise<ImageStreamRecord | undefined> {
    const row = await this.#db
      .selectFrom('image_streams')
      .select(STREAM_COLUMNS)
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : toStream(row);
  }

  async listStreams(project: string, page: Page): Promise<ImageStreamRecord[]> {
    let query = this.#db.selectFrom('image_streams').select(STREAM_COLUMNS).where('project', '=', project);
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map(toStream);
  }

  async listAllStreams(page: StreamPage): Promise<ImageStreamRecord[]> {
    let query = this.#db.selectFrom('image_streams').select(STREAM_COLUMNS);
    const after = page.after;
    if (after !== undefined) {
      // A row-value comparison: both engines turn it into a range scan of the primary key.
      query = query.where((eb) => eb(eb.refTuple('project', 'name'), '>', eb.tuple(after.project, after.name)));
    }
    const rows = await query.orderBy('project').orderBy('name').limit(page.limit).execute();
    return rows.map(toStream);
  }

  async putSpec(
    project: string,
    name: string,
    update: { readonly spec: ImageStreamSpec; readonly annotations: Readonly<Record<string, string>> },
    expectedResourceVersion: number | undefined,
  ): Promise<ImageStreamRecord> {
    const spec = JSON.stringify(update.spec);
    // One conditional UPDATE: the precondition and the write cannot be split by another writer.
    let query = this.#db
      .updateTable('image_streams')
      .set((eb) => ({
        spec,
        annotations: JSON.stringify(update.annotations),
        // Kubernetes semantics: generation counts spec changes, not every write.
        generation: sql<number>`case when spec = ${spec} then generation else generation + 1 end`,
        resource_version: eb('resource_version', '+', 1),
      }))
      .where('project', '=', project)
      .where('name', '=', name);
    if (expectedResourceVersion !== undefined) query = query.where('resource_version', '=', expectedResourceVersion);
    const row = await query.returning(STREAM_COLUMNS).executeTakeFirst();
    if (row !== undefined) return toStream(row);
    if ((await this.getStream(project, name)) === undefined) throw new ImageStreamNotFoundError(project, name);
    throw new ImageStreamConflictError(project, name, expectedResourceVersion ?? 0);
  }

  async deleteStream(project: string, name: string): Promise<boolean> {
    return atomic(this.#db, async (db) => {
      // Stream row first (its lock orders us after a concurrent addTagItem),
      // then tags before the items they point at; explicit rather than by
      // cascade, so that the order never depends on how the engine runs cascades.
      const deleted = await db.deleteFrom('image_streams').where('project', '=', project).where('name', '=', name).executeTakeFirst();
      await db.deleteFrom('image_stream_tags').where('project', '=', project).where('stream', '=', name).execute();
      await db.deleteFrom('image_stream_tag_items').where('project', '=', project).where('stream', '=', name).execute();
      return deleted.numDeletedRows > 0n;
    });
  }

  /** Bumps the stream's resource_version (taking its row lock on PostgreSQL); NotFound when there is no stream. */
  async #touch(db: Kysely<Database>, project: string, stream: string): Promise<void> {
    const result = await db
      .updateTable('image_streams')
      .set((eb) => ({ resource_version: eb('resource_version', '+', 1) }))
      .where('project', '=', project)
      .where('name', '=', stream)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new ImageStreamNotFoundError(project, stream);
  }

  async #pointTag(db: Kysely<Database>, project: string, stream: string, tag: string, generation: number, now: number): Promise<void> {
    await db
      .insertInto('image_stream_tags')
      .values({ project, stream, tag, current_generation: generation, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['project', 'stream', 'tag']).doUpdateSet((eb) => ({
          current_generation: eb.ref('excluded.current_generation'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }

  async addTagItem(project: string, stream: string, tag: string, item: NewTagItem): Promise<TagItemRecord> {
    return atomic(this.#db, async (db) => {
      await this.#touch(db, project, stream);
      // Backward scan of the primary key: one index probe however long the history.
      const newest = await db
        .selectFrom('image_stream_tag_items')
        .select('generation')
        .where('project', '=', project)
        .where('stream', '=', stream)
        .where('tag', '=', tag)
        .orderBy('generation', 'desc')
        .limit(1)
        .executeTakeFirst();
      const record: TagItemRecord = { ...item, project, stream, tag, generation: (newest?.generation ?? 0) + 1 };
      await db
        .insertInto('image_stream_tag_items')
        .values({
          project,
          stream,
          tag,
          generation: record.generation,
          created_at: item.createdAt,
          image_digest: item.imageDigest,
          docker_image_reference: item.dockerImageReference,
          source_kind: item.sourceKind,
          source_ref: item.sourceRef,
        })
        .execute();
      await this.#pointTag(db, project, stream, tag, record.generation, item.createdAt);
      return record;
    });
  }

  async setCurrentItem(project: string, stream: string, tag: string, generation: number, now: number): Promise<TagItemRecord> {
    return atomic(this.#db, async (db) => {
      await this.#touch(db, project, stream);
      const item = await new KyselyImageStreamStore(db, this.#dialect).getTagItem(project, stream, tag, generation);
      if (item === undefined) throw new TagItemNotFoundError(project, stream, tag, generation);
      await this.#pointTag(db, project, stream, tag, generation, now);
      return item;
    });
  }

  async deleteTag(project: string, stream: string, tag: string, _now: number): Promise<boolean> {
    return atomic(this.#db, async (db) => {
      if (!(await lockStreamRow(db, this.#dialect, project, stream))) return false;
      const deleted = await db
        .deleteFrom('image_stream_tags')
        .where('project', '=', project)
        .where('stream', '=', stream)
        .where('tag', '=', tag)
        .executeTakeFirst();
      if (deleted.numDeletedRows === 0n) return false;
      await this.#touch(db, project, stream);
      return true;
    });
  }

  async pruneTagHistory(project: string, stream: string, prune: TagHistoryPrune): Promise<TagItemRecord[]> {
    const keep = prune.keepTagRevisions;
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keepTagRevisions must be a positive integer, not ${keep}`);
    const prunable = (eb: ExpressionBuilder<Database, 'image_stream_tag_items'>) => prunableItem(eb, keep, prune.createdBefore);
    if (prune.dryRun === true) {
      const rows = await this.#db
        .selectFrom('image_stream_tag_items')
        .select(ITEM_COLUMNS)
        .where('project', '=', project)
        .where('stream', '=', stream)
        .where(prunable)
        .orderBy('tag')
        .orderBy('generation', 'desc')
        .execute();
      return rows.map(toItem);
    }
    return atomic(this.#db, async (db) => {
      if (!(await lockStreamRow(db, this.#dialect, project, stream))) return [];
      const rows = await db
        .deleteFrom('image_stream_tag_items')
        .where('project', '=', project)
        .where('stream', '=', stream)
        .where(prunable)
        .returning(ITEM_COLUMNS)
        .execute();
      if (rows.length === 0) return [];
      await this.#touch(db, project, stream);
      return rows.map(toItem).sort((a, b) => compareBytes(a.tag, b.tag) || b.generation - a.generation);
    });
  }

  #tagsQuery(project: string, stream: string) {
    return this.#db
      .selectFrom('image_stream_tags as t')
      .innerJoin('image_stream_tag_items as i', (join) =>
        join
          .onRef('i.project', '=', 't.project')
          .onRef('i.stream', '=', 't.stream')
          .onRef('i.tag', '=', 't.tag')
          .onRef('i.generation', '=', 't.current_generation'),
      )
      .select(['t.updated_at as updated_at', ...JOINED_ITEM_COLUMNS])
      .where('t.project', '=', project)
      .where('t.stream', '=', stream);
  }

  async getTag(project: string, stream: string, tag: string): Promise<StreamTagRecord | undefined> {
    const row = await this.#tagsQuery(project, stream).where('t.tag', '=', tag).executeTakeFirst();
    return row === undefined ? undefined : { tag: row.tag, updatedAt: row.updated_at, current: toItem(row) };
  }

  async listTags(project: string, stream: string, page: Page): Promise<StreamTagRecord[]> {
    let query = this.#tagsQuery(project, stream);
    if (page.after !== undefined) query = query.where('t.tag', '>', page.after);
    const rows = await query.orderBy('t.tag').limit(page.limit).execute();
    return rows.map((row) => ({ tag: row.tag, updatedAt: row.updated_at, current: toItem(row) }));
  }

  async listTagItems(project: string, stream: string, tag: string, page: TagItemPage): Promise<TagItemRecord[]> {
    let query = this.#db
      .selectFrom('image_stream_tag_items')
      .select(ITEM_COLUMNS)
      .where('project', '=', project)
      .where('stream', '=', stream)
      .where('tag', '=', tag);
    if (page.beforeGeneration !== undefined) query = query.where('generation', '<', page.beforeGeneration);
    const rows = await query.orderBy('generation', 'desc').limit(page.limit).execute();
    return rows.map(toItem);
  }

  async getTagItem(project: string, stream: string, tag: string, generation: number): Promise<TagItemRecord | undefined> {
    const row = await this.#db
      .selectFrom('image_stream_tag_items')
      .select(ITEM_COLUMNS)
      .where('project', '=', project)
      .where('stream', '=', stream)
      .where('tag', '=', tag)
      .where('generation', '=', generation)
      .executeTakeFirst();
    return row === undefined ? undefined : toItem(row);
  }

  async findImageItem(project: string, stream: string, imageDigest: string): Promise<TagItemRecord | undefined> {
    const row = await this.#db
      .selectFrom('image_stream_tag_items')
      .select(ITEM_COLUMNS)
      .where('project', '=', project)
      .where('stream', '=', stream)
      .where('image_digest', '=', imageDigest)
      .orderBy('created_at', 'desc')
      .orderBy('tag')
      .orderBy('generation', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toItem(row);
  }

  async listRecentTagItems(project: string, streams: readonly string[], itemsPerTag: number): Promise<StreamTagItems[]> {
    if (streams.length === 0 || itemsPerTag <= 0) return [];
    // Per live tag: the generation of its itemsPerTag-th newest item (one
    // backward probe of the primary key), then a range scan of the items at
    // or above it. Both engines use the condition as the index range.
    const rows = await this.#db
      .selectFrom('image_stream_tags as t')
      .innerJoin('image_stream_tag_items as i', (join) =>
        join.onRef('i.project', '=', 't.project').onRef('i.stream', '=', 't.stream').onRef('i.tag', '=', 't.tag'),
      )
      .select(JOINED_ITEM_COLUMNS)
      .where('t.project', '=', project)
      .where('t.stream', 'in', [...streams])
      .where((eb) =>
        eb(
          'i.generation',
          '>=',
          eb.fn.coalesce(
            eb
              .selectFrom('image_stream_tag_items as i2')
              .select('i2.generation')
              .whereRef('i2.project', '=', 't.project')
              .whereRef('i2.stream', '=', 't.stream')
              .whereRef('i2.tag', '=', 't.tag')
              .orderBy('i2.generation', 'desc')
              .limit(1)
              .offset(itemsPerTag - 1),
            sql.lit(0),
          ),
        ),
      )
      .orderBy('t.stream')
      .orderBy('t.tag')
      .orderBy('i.generation', 'desc')
      .execute();
    const out: { stream: string; tag: string; items: TagItemRecord[] }[] = [];
    for (const row of rows) {
      const last = out.at(-1);
      if (last !== undefined && last.stream === row.stream && last.tag === row.tag) last.items.push(toItem(row));
      else out.push({ stream: row.stream, tag: row.tag, items: [toItem(row)] });
    }
    return out;
  }

  async findImageStream(project: string, imageDigest: string): Promise<string | undefined> {
    // `project/` is cut off the repository name to probe image_streams by its
    // primary key; substr counts characters, as [...project] does.
    const prefixLength = [...project].length + 1;
    const row = await this.#db
      .selectFrom((db) =>
        db
          .selectFrom('image_stream_tag_items')
          .select('stream')
          .where('project', '=', project)
          .where('image_digest', '=', imageDigest)
          .unionAll(
            db
              .selectFrom('manifests as m')
              .innerJoin('image_streams as s', (join) =>
                join.on('s.project', '=', project).on('s.name', '=', sql<string>`substr(m.repository, ${prefixLength + 1})`),
              )
              .select('s.name as stream')
              .where('m.digest', '=', imageDigest)
              .where(sql<string>`substr(m.repository, 1, ${prefixLength})`, '=', `${project}/`),
          )
          .as('hits'),
      )
      .select((eb) => eb.fn.min<string>('hits.stream').as('stream'))
      .executeTakeFirst();
    return row?.stream ?? undefined;
  }

  async scheduleImport(project: string, name: string, at: number | null): Promise<boolean> {
    const result = await this.#db
      .updateTable('image_streams')
      .set({ next_import_at: at })
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async claimDueImports(owner: string, now: number, leaseMs: number, limit: number): Promise<ImageStreamRecord[]> {
    if (limit <= 0) return [];
    let due = this.#db
      .selectFrom('image_streams')
      .select(['project', 'name'])
      .where('next_import_at', '<=', now)
      .where(leaseFree(now))
      .orderBy('next_import_at')
      .orderBy('project')
      .orderBy('name')
      .limit(limit);
    // PostgreSQL: skip rows another claimer has locked instead of queueing
    // behind it, so concurrent schedulers take different streams at once.
    // (SQLite: one writer at a time, so there is nothing to skip.)
    if (this.#dialect === 'postgres') due = due.forUpdate().skipLocked();
    const rows = await this.#db
      .updateTable('image_streams')
      .set({ import_lease_owner: owner, import_lease_until: now + leaseMs })
      .where((eb) => eb(eb.refTuple('project', 'name'), 'in', due.$asTuple('project', 'name')))
      // Checked again on the row being updated (PostgreSQL re-evaluates it on
      // the newest row version after waiting for a lock): the guarantee that
      // two claimers never both win does not rest on the subquery alone.
      .where(leaseFree(now))
      .returning(STREAM_COLUMNS)
      .execute();
    return rows
      .map(toStream)
      .sort((a, b) => (a.nextImportAt ?? 0) - (b.nextImportAt ?? 0) || compareBytes(a.project, b.project) || compareBytes(a.name, b.name));
  }

  async finishImport(
    project: string,
    name: string,
    owner: string,
    nextImportAt: number | null,
    conditions: readonly ImageStreamCondition[],
    importedGeneration?: number,
  ): Promise<boolean> {
    // Decided on the row being updated: a spec change that committed after
    // the import (and made the stream due) is never overwritten by this finish.
    const next =
      importedGeneration === undefined
        ? nextImportAt
        : sql<number | null>`case when generation = ${importedGeneration} then ${nextImportAt} else next_import_at end`;
    const result = await this.#db
      .updateTable('image_streams')
      .set((eb) => ({
        import_lease_owner: null,
        import_lease_until: null,
        next_import_at: next,
        status_conditions: JSON.stringify(conditions),
        resource_version: eb('resource_version', '+', 1),
      }))
      .where('project', '=', project)
      .where('name', '=', name)
      .where('import_lease_owner', '=', owner)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

/**
 * The history items pruneTagHistory removes, as a condition on a row of
 * image_stream_tag_items (the outer table, by its own name; the subqueries
 * alias theirs): not its tag's current item, and either its tag is deleted
 * or at least `keep` newer items of its tag exist; and, with
 * `createdBefore`, older than that. Each subquery is a probe of a primary
 * key (tags by project, stream, tag; items backwards from the newest).
 */
function prunableItem(eb: ExpressionBuilder<Database, 'image_stream_tag_items'>, keep: number, createdBefore: number | undefined) {
  const tagOf = () =>
    eb
      .selectFrom('image_stream_tags as t')
      .select('t.current_generation')
      .whereRef('t.project', '=', 'image_stream_tag_items.project')
      .whereRef('t.stream', '=', 'image_stream_tag_items.stream')
      .whereRef('t.tag', '=', 'image_stream_tag_items.tag');
  // The generation of the tag's (keep + 1)-th newest item; null when it has no more than `keep`.
  const oldestKept = eb
    .selectFrom('image_stream_tag_items as k')
    .select('k.generation')
    .whereRef('k.project', '=', 'image_stream_tag_items.project')
    .whereRef('k.stream', '=', 'image_stream_tag_items.stream')
    .whereRef('k.tag', '=', 'image_stream_tag_items.tag')
    .orderBy('k.generation', 'desc')
    .limit(1)
    .offset(keep);
  const conditions = [
    eb.not(eb.exists(tagOf().whereRef('t.current_generation', '=', 'image_stream_tag_items.generation'))),
    eb.or([eb.not(eb.exists(tagOf())), eb('image_stream_tag_items.generation', '<=', oldestKept)]),
  ];
  if (createdBefore !== undefined) conditions.push(eb('image_stream_tag_items.created_at', '<', createdBefore));
  return eb.and(conditions);
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
