/**
 * The image-stream reads at scale, through the real resource API plugin on
 * SQLite: the shape of the work, not its speed (targets live in the
 * benchmarks). Every SQL statement is logged; the tests count the ones on
 * image tables per request, and check with EXPLAIN QUERY PLAN that they are
 * index searches, not table scans, with 10,000 streams in a project, 2,000
 * tags in a stream and 10,000 history items in a tag. Pruning such a
 * history is one indexed statement per stream, not one per tag or per item.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { CompiledQuery, Kysely, type Insertable } from 'kysely';
import { ImageStreamService } from '../../../imagestreams/image-stream-service.ts';
import { KyselyMetadata } from '../../../metadata/open-metadata.ts';
import type { Database } from '../../../metadata/schema.ts';
import { insertMany } from '../../../metadata/sql-support.ts';
import { NodeSqliteDialect } from '../../../metadata/sqlite-dialect.ts';
import { createRegistry } from '../../../registry/registry.ts';
import { FilesystemDriver } from '../../../storage/filesystem-driver.ts';
import { ok, startImageStreamApi, type Answer, type ImageStreamApi, type Json } from '../../../../test/support/imagestream-api.ts';

const HOST = 'registry.test:5000';
const STREAMS = 10_000;
const TAGS = 2_000;
const HISTORY = 10_000;

let dir: string;
let db: Kysely<Database>;
let metadata: KyselyMetadata;
let api: ImageStreamApi;
let app: FastifyInstance;
let admin: string;
/** Every statement run since the last reset. */
let statements: CompiledQuery[] = [];

const digest = (seed: string): string => `sha256:${Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('hex')}`;
const IMAGE_TABLES = /"(image_stream_tag_items|image_stream_tags|image_streams|images|manifests)"/;

/** GET `url`, or POST `body` to it, as the cluster admin. */
const call = (url: string, body?: unknown): Promise<Answer> => api.call(body === undefined ? 'GET' : 'POST', url, { auth: admin, body });

/** The statements of the last request that read image-stream tables. */
function imageStatements(): CompiledQuery[] {
  return statements.filter((q) => IMAGE_TABLES.test(q.sql));
}

/**
 * EXPLAIN QUERY PLAN of a logged statement: it must search an index and scan
 * no table. `sorted`: nor sort its result (a listing must come in index
 * order; a lookup may sort the few rows its search found).
 */
async function assertIndexed(query: CompiledQuery, options: { sorted?: boolean } = {}): Promise<void> {
  const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
  const steps = plan.rows.map((r) => r.detail);
  const bad = steps.filter((d) => /^SCAN (?!hits\b)/.test(d) || (options.sorted === true && /TEMP B-TREE/.test(d)));
  assert.deepEqual(bad, [], `${query.sql}\n${steps.join('\n')}`);
  assert.ok(steps.some((d) => /^SEARCH /.test(d)), steps.join('\n'));
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-imagestream-scale-'));
  db = new Kysely<Database>({
    dialect: new NodeSqliteDialect(path.join(dir, 'berth.db')),
    log: (event) => {
      if (event.level === 'query') statements.push(event.query);
    },
  });
  metadata = new KyselyMetadata(db, 'sqlite');
  await metadata.migrate();
  const now = Date.UTC(2026, 4, 1);
  const clock = () => now;

  // 10,000 streams in project "big", each with one tag; the image under test is
  // recorded only by the last stream's history, and another one only by a
  // repository (pushed by digest) of a stream in the middle.
  const streams: Insertable<Database['image_streams']>[] = [];
  const tags: Insertable<Database['image_stream_tags']>[] = [];
  const items: Insertable<Database['image_stream_tag_items']>[] = [];
  const stream = (project: string, name: string) =>
    streams.push({
      project, name, uid: `uid-${project}-${name}`, created_at: now, generation: 1, resource_version: 1,
      spec: '{}', annotations: '{}', status_conditions: '[]', next_import_at: null, import_lease_owner: null, import_lease_until: null, import_generation: null,
    });
  const item = (project: string, name: string, tag: string, generation: number, image: string) =>
    items.push({
      project, stream: name, tag, generation, created_at: now + generation, image_digest: image,
      docker_image_reference: `${HOST}/${project}/${name}@${image}`, source_kind: 'push', source_ref: null,
    });
  for (let i = 0; i < STREAMS; i++) {
    const name = `s${String(i).padStart(5, '0')}`;
    stream('big', name);
    item('big', name, 'latest', 1, digest(`common-${i % 7}`));
    tags.push({ project: 'big', stream: name, tag: 'latest', current_generation: 1, updated_at: now });
  }
  item('big', 's09999', 'target', 1, digest('target'));
  tags.push({ project: 'big', stream: 's09999', tag: 'target', current_generation: 1, updated_at: now });
  // 2,000 tags with three items each, and one tag with a 10,000-item history.
  stream('wide', 'tags');
  for (let t = 0; t < TAGS; t++) {
    for (let g = 1; g <= 3; g++) item('wide', 'tags', `t${t}`, g, digest(`wide-${t}-${g}`));
    tags.push({ project: 'wide', stream: 'tags', tag: `t${t}`, current_generation: 3, updated_at: now });
  }
  stream('wide', 'long');
  for (let g = 1; g <= HISTORY; g++) item('wide', 'long', 'latest', g, digest(`long-${g}`));
  tags.push({ project: 'wide', stream: 'long', tag: 'latest', current_generation: HISTORY, updated_at: now });
  // To prune: the same shapes in project "prune", plus a deleted tag's history in "long".
  stream('prune', 'tags');
  for (let t = 0; t < TAGS; t++) {
    for (let g = 1; g <= 3; g++) item('prune', 'tags', `t${t}`, g, digest(`prune-${t}-${g}`));
    tags.push({ project: 'prune', stream: 'tags', tag: `t${t}`, current_generation: 3, updated_at: now });
  }
  stream('prune', 'long');
  for (let g = 1; g <= HISTORY; g++) item('prune', 'long', 'latest', g, digest(`prune-long-${g}`));
  for (let g = 1; g <= 5; g++) item('prune', 'long', 'deleted', g, digest(`prune-deleted-${g}`));
  tags.push({ project: 'prune', stream: 'long', tag: 'latest', current_generation: HISTORY, updated_at: now });
  const image = (d: string) => ({ digest: d, media_type: 'application/vnd.oci.image.manifest.v1+json', size: 100, config_digest: null, metadata: null, layers: '[]', manifests: '[]', annotations: null, created_at: now });
  await db.transaction().execute(async (trx) => {
    await insertMany(trx, 'image_streams', streams);
    await insertMany(trx, 'image_stream_tag_items', items);
    await insertMany(trx, 'image_stream_tags', tags);
    await insertMany(trx, 'images', [image(digest('target')), image(digest('by-digest')), image(digest('elsewhere'))]);
    await insertMany(trx, 'repositories', [{ name: 'big/s05000', project: 'big', created_at: now }, { name: 'other/x', project: 'other', created_at: now }]);
    await insertMany(trx, 'manifests', [
      { repository: 'big/s05000', digest: digest('by-digest'), media_type: 'application/vnd.oci.image.manifest.v1+json', size: 100, artifact_type: null, subject_digest: null, annotations: null, created_at: now },
      { repository: 'other/x', digest: digest('elsewhere'), media_type: 'application/vnd.oci.image.manifest.v1+json', size: 100, artifact_type: null, subject_digest: null, annotations: null, created_at: now },
    ]);
  });
  await db.executeQuery(CompiledQuery.raw('analyze'));

  const registry = createRegistry({ metadata, driver: new FilesystemDriver({ root: path.join(dir, 'blobs') }), clock, maxManifestBytes: 4 * 1024 * 1024 });
  const imageStreams = new ImageStreamService({ metadata, manifests: registry.manifests, pullSpecHost: HOST, clock });
  api = await startImageStreamApi({ metadata, imageStreams, clock, pullSpecHost: HOST });
  ({ app, admin } = api);
  for (const project of ['big', 'wide', 'other', 'prune']) await metadata.projects.ensureProject({ name: project, createdAt: now, createdBy: 'admin', displayName: null });
});

after(async () => {
  await app?.close();
  await metadata?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  statements = [];
});

describe('image-stream reads at scale (SQLite)', () => {
  it(`GET images/{digest} in a project of ${STREAMS} streams: a constant handful of indexed queries, hit or miss`, async () => {
    const hit = ok(await call(`namespaces/big/images/${digest('target')}`));
    assert.equal(hit['dockerImageReference'], `${HOST}/big/s09999@${digest('target')}`);
    const onHit = imageStatements();
    assert.ok(onHit.length <= 4, `${onHit.length} queries on image tables:\n${onHit.map((q) => q.sql).join('\n')}`);
    for (const query of onHit) await assertIndexed(query);

    statements = [];
    const byRepository = ok(await call(`namespaces/big/images/${digest('by-digest')}`));
    assert.equal(byRepository['dockerImageReference'], `${HOST}/big/s05000@${digest('by-digest')}`);
    assert.ok(imageStatements().length <= 4);

    // Misses: recorded only in another project, and not recorded at all.
    for (const missing of [digest('elsewhere'), digest('nowhere')]) {
      statements = [];
      const answer = await call(`namespaces/big/images/${missing}`);
      assert.equal(answer.res.statusCode, 404, answer.res.body);
      const onMiss = imageStatements();
      assert.ok(onMiss.length <= 2, `${onMiss.length} queries on image tables for a miss`);
      for (const query of onMiss) await assertIndexed(query);
    }
  });

  it('the stream list reads tags and items for a whole page at once, not per stream or per tag', async () => {
    const page = ok(await call('namespaces/big/imagestreams?limit=1000'));
    assert.equal(page.items?.length, 1000);
    assert.deepEqual((page.items?.[0]?.status?.['tags'] as Json[]).map((t) => t['tag']), ['latest']);
    const queries = imageStatements();
    // The streams, then their tags with items in batches of a few hundred streams.
    assert.ok(queries.length <= 4, `${queries.length} queries on image tables for 1000 streams:\n${queries.map((q) => q.sql).join('\n')}`);
    for (const query of queries) await assertIndexed(query, { sorted: true });
  });

  it(`a stream of ${TAGS} tags and one of a ${HISTORY}-item history: two indexed queries each, ten items per tag`, async () => {
    const wide = ok(await call('namespaces/wide/imagestreams/tags'));
    const tags = wide.status?.['tags'] as Json[];
    assert.equal(tags.length, TAGS);
    assert.deepEqual((tags.find((t) => t['tag'] === 't7')?.['items'] as Json[]).map((i) => i['generation']), [3, 2, 1]);
    assert.equal(imageStatements().length, 2);
    for (const query of imageStatements()) await assertIndexed(query, { sorted: true });

    statements = [];
    const long = ok(await call('namespaces/wide/imagestreams/long'));
    const items = (long.status?.['tags'] as Json[])[0]?.['items'] as Json[];
    assert.deepEqual(items.map((i) => i['generation']), Array.from({ length: 10 }, (_, i) => HISTORY - i));
    assert.equal(imageStatements().length, 2);
    for (const query of imageStatements()) await assertIndexed(query, { sorted: true });
  });

  it(`pruning a ${HISTORY}-item history, a stream of ${TAGS} tags, and the whole project: one indexed statement per stream`, async () => {
    // A dry run: one SELECT of what would go.
    const dry = ok(await call('namespaces/prune/imagestreams/long/prune', { spec: { keepTagRevisions: 3, dryRun: true } }));
    assert.equal(((dry['status'] as Json)['pruned'] as Json[]).length, HISTORY - 3 + 5);
    const histories = imageStatements().filter((q) => /^select .* from "image_stream_tag_items" where/.test(q.sql));
    assert.equal(histories.length, 1, imageStatements().map((q) => q.sql).join('\n'));
    assert.equal(statements.filter((q) => /^(delete|update|insert) /i.test(q.sql)).length, 0, 'a dry run writes nothing');
    for (const query of imageStatements()) await assertIndexed(query);

    statements = [];
    const long = ok(await call('namespaces/prune/imagestreams/long/prune', { spec: { keepTagRevisions: 3 } }));
    assert.equal(((long['status'] as Json)['pruned'] as Json[]).length, HISTORY - 3 + 5);
    const deletes = statements.filter((q) => /^delete /i.test(q.sql));
    assert.equal(deletes.length, 1, deletes.map((q) => q.sql).join('\n'));
    assert.ok(imageStatements().length <= 4, imageStatements().map((q) => q.sql).join('\n'));
    for (const query of imageStatements()) await assertIndexed(query);
    assert.deepEqual((await metadata.imageStreams.listTagItems('prune', 'long', 'latest', { limit: 10 })).map((i) => i.generation), [HISTORY, HISTORY - 1, HISTORY - 2]);
    assert.deepEqual(await metadata.imageStreams.listTagItems('prune', 'long', 'deleted', { limit: 10 }), []);

    // A project of two streams: the list of streams, then per stream the same few statements.
    statements = [];
    const all = ok(await call('namespaces/prune/imagestreamprunes', { spec: { keepTagRevisions: 1 } }));
    assert.equal((all['status'] as Json)['imageStreams'], 2);
    assert.equal(((all['status'] as Json)['pruned'] as Json[]).length, 2 + TAGS * 2);
    assert.equal(statements.filter((q) => /^delete /i.test(q.sql)).length, 2);
    assert.ok(imageStatements().length <= 10, imageStatements().map((q) => q.sql).join('\n'));
    for (const query of imageStatements()) await assertIndexed(query);
    assert.deepEqual((await metadata.imageStreams.listTagItems('prune', 'tags', 't1999', { limit: 10 })).map((i) => i.generation), [3]);
  });
});
