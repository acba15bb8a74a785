/**
 * ImportScheduler with real CNCF Distribution as the remote: a new push found
 * on the interval, a check overdue across a restart, and two schedulers on
 * one PostgreSQL database never importing one stream at once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ANONYMOUS } from '../authz/authorizer.ts';
import { SecretBox } from '../identity/secret-box.ts';
import { openKyselyMetadata } from '../metadata/open-metadata.ts';
import type { Metadata, ImageStreamRecord } from '../metadata/stores.ts';
import { RemoteRegistryClient } from '../remote/remote-client.ts';
import { startDelayProxy, waitFor, type RegistryProxy } from '../../test/support/imagestream-api.ts';
import { testPostgresUrl } from '../../test/support/postgres.ts';
import { startRemoteRegistry, testImage } from '../../test/support/remote-registry.ts';
import type { RemoteRegistry } from '../../test/support/remote-registry.ts';
import { DOCKER_REPOSITORY_CHECK_ANNOTATION, ImageStreamImporter } from './image-importer.ts';
import type { ScheduledImporter, ScheduledImportOutcome } from './image-importer.ts';
import { ImportScheduler } from './import-scheduler.ts';
import { PullSecretService } from './pull-secrets.ts';

function importerOn(metadata: Metadata, intervalMs: number): ImageStreamImporter {
  const secrets = new PullSecretService({ metadata, secretBox: new SecretBox(randomBytes(32)), clock: Date.now });
  return new ImageStreamImporter({
    metadata,
    secrets,
    clock: Date.now,
    scheduleIntervalMs: intervalMs,
    clientFactory: (registry, o) => new RemoteRegistryClient({ registry, credentials: o.credentials, insecure: true, timeoutMs: 10_000, maxRetries: 1 }),
  });
}

describe('scheduled import', () => {
  let remote: RemoteRegistry;
  let dir: string;

  before(async () => {
    remote = await startRemoteRegistry({ auth: 'none' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-import-scheduler-'));
  });
  after(async () => {
    await remote.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds a new push to the remote on the next interval (history item, generation 2, check time updated)', async () => {
    const metadata = await openKyselyMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    const importer = importerOn(metadata, 1000);
    const scheduler = new ImportScheduler({ metadata, importer, intervalMs: 1000, pollMs: 100, clock: Date.now });
    try {
      const first = testImage('sched-1', 'oci');
      await remote.pushImage('lib/sched', 'latest', first);
      await importer.importStream('p', 'sched', { from: `${remote.hostPort}/lib/sched:latest`, scheduled: true, confirm: true }, ANONYMOUS);
      const before = await metadata.imageStreams.getStream('p', 'sched');
      assert.ok(before?.nextImportAt !== null && before?.nextImportAt !== undefined, 'scheduled');
      const checkedBefore = before.annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION];

      scheduler.start();
      const second = testImage('sched-2', 'docker');
      await remote.pushImage('lib/sched', 'latest', second);
      const items = await waitFor('the scheduled import of the new push', async () => {
        const list = await metadata.imageStreams.listTagItems('p', 'sched', 'latest', { limit: 10 });
        return list.length >= 2 ? list : undefined;
      });
      assert.deepEqual(items.map((i) => [i.generation, i.imageDigest, i.sourceKind]), [[2, second.digest, 'import'], [1, first.digest, 'import']]);
      // And it keeps checking: the check time moves on without new items.
      await waitFor('another scheduled check', async () => {
        const s = await metadata.imageStreams.getStream('p', 'sched');
        const at = s?.annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION];
        return at !== undefined && at !== checkedBefore && s?.importLeaseOwner === null ? s : undefined;
      });
      await sleep(1500);
      assert.equal((await metadata.imageStreams.listTagItems('p', 'sched', 'latest', { limit: 10 })).length, 2, 'unchanged checks add nothing');
      const after = await metadata.imageStreams.getStream('p', 'sched');
      assert.ok((after?.nextImportAt ?? 0) > Date.now() - 1000);
    } finally {
      await scheduler.stop();
      await metadata.close();
    }
  });

  it('imports a stream whose check fell due while the server was down soon after start; unscheduled streams are left', async () => {
    const url = `sqlite:${path.join(dir, 'restart.db')}`;
    const image = testImage('restart-1', 'oci');
    await remote.pushImage('lib/restart', 'v1', image);
    {
      // "Before the restart": a scheduled stream and an unscheduled one, then the process goes away.
      const metadata = await openKyselyMetadata({ url });
      await metadata.migrate();
      const importer = importerOn(metadata, 60 * 60_000);
      await importer.importStream('p', 'restart', { from: `${remote.hostPort}/lib/restart:v1`, scheduled: true, confirm: true }, ANONYMOUS);
      await importer.importStream('p', 'manual', { from: `${remote.hostPort}/lib/restart:v1`, confirm: true }, ANONYMOUS);
      // Due an hour ago, as if the server had been down when it fell due.
      await metadata.imageStreams.scheduleImport('p', 'restart', Date.now() - 60 * 60_000);
      await metadata.close();
    }
    const newer = testImage('restart-2', 'oci');
    await remote.pushImage('lib/restart', 'v1', newer);
    const metadata = await openKyselyMetadata({ url });
    const scheduler = new ImportScheduler({ metadata, importer: importerOn(metadata, 60 * 60_000), intervalMs: 60 * 60_000, clock: Date.now });
    try {
      const startedAt = Date.now();
      scheduler.start();
      const tag = await waitFor('the overdue import', async () => {
        const t = await metadata.imageStreams.getTag('p', 'restart', 'v1');
        return t?.current.imageDigest === newer.digest ? t : undefined;
      });
      assert.equal(tag.current.generation, 2);
      assert.ok(Date.now() - startedAt < 10_000, 'soon after start, not an interval later');
      const stream = await metadata.imageStreams.getStream('p', 'restart');
      assert.ok((stream?.nextImportAt ?? 0) >= startedAt + 60 * 60_000 - 1000, 'next check one interval on');
      assert.equal((await metadata.imageStreams.getTag('p', 'manual', 'v1'))?.current.imageDigest, image.digest, 'not scheduled: not re-imported');
      assert.equal((await metadata.imageStreams.getStream('p', 'manual'))?.nextImportAt, null);
    } finally {
      await scheduler.stop();
      await metadata.close();
    }
  });

  it('clears the schedule of a stream whose spec no longer schedules anything', async () => {
    const metadata = await openKyselyMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    try {
      await metadata.imageStreams.ensureStream('p', 'plain', 1);
      await metadata.imageStreams.scheduleImport('p', 'plain', 1);
      const scheduler = new ImportScheduler({ metadata, importer: importerOn(metadata, 1000), intervalMs: 1000, clock: Date.now });
      assert.equal(await scheduler.pollOnce(), 1);
      const stream = await metadata.imageStreams.getStream('p', 'plain');
      assert.equal(stream?.nextImportAt, null);
      assert.equal(stream?.importLeaseOwner, null);
    } finally {
      await metadata.close();
    }
  });
});

describe('two schedulers on one PostgreSQL database', async () => {
  const postgres = await testPostgresUrl();
  if ('skip' in postgres) {
    it('needs PostgreSQL', { skip: postgres.skip }, () => {});
    return;
  }
  let remote: RemoteRegistry;
  let proxy: RegistryProxy;
  before(async () => {
    remote = await startRemoteRegistry({ auth: 'none' });
    proxy = await startDelayProxy(remote, 150);
  });
  after(async () => {
    await proxy.stop();
    await remote.stop();
    await postgres.cleanup();
  });

  it('never import the same stream at once, and between them import every due stream once', async () => {
    const a = await openKyselyMetadata({ url: postgres.url });
    await a.migrate();
    const b = await openKyselyMetadata({ url: postgres.url });
    const names = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const image = testImage('pg-shared', 'oci');
    await remote.pushImage('lib/shared', 'latest', image);
    const setup = importerOn(a, 60 * 60_000);
    for (const name of names) {
      await setup.importStream('p', name, { from: `${proxy.hostPort}/lib/shared:latest`, scheduled: true, confirm: true }, ANONYMOUS);
      await a.imageStreams.scheduleImport('p', name, Date.now() - 1000);
    }
    // A new image, so that every scheduled import has something to record.
    const newer = testImage('pg-shared-2', 'oci');
    await remote.pushImage('lib/shared', 'latest', newer);

    const inFlight = new Set<string>();
    const overlaps: string[] = [];
    const done: { stream: string; by: string }[] = [];
    const tracked = (inner: ScheduledImporter, by: string): ScheduledImporter => ({
      async importScheduled(stream: ImageStreamRecord): Promise<ScheduledImportOutcome> {
        const key = `${stream.project}/${stream.name}`;
        if (inFlight.has(key)) overlaps.push(key);
        inFlight.add(key);
        try {
          return await inner.importScheduled(stream);
        } finally {
          inFlight.delete(key);
          done.push({ stream: key, by });
        }
      },
    });
    const schedulers = [
      new ImportScheduler({ metadata: a, importer: tracked(importerOn(a, 60 * 60_000), 'a'), owner: 'a', intervalMs: 60 * 60_000, pollMs: 20, batchSize: 1, clock: Date.now }),
      new ImportScheduler({ metadata: b, importer: tracked(importerOn(b, 60 * 60_000), 'b'), owner: 'b', intervalMs: 60 * 60_000, pollMs: 20, batchSize: 1, clock: Date.now }),
    ];
    try {
      for (const s of schedulers) s.start();
      await waitFor('every stream imported', async () => (done.length >= names.length ? true : undefined), 30_000);
      await sleep(300);
    } finally {
      for (const s of schedulers) await s.stop();
    }
    try {
      assert.deepEqual(overlaps, [], 'no stream imported by two schedulers at once');
      assert.deepEqual(done.map((d) => d.stream).sort(), names.map((n) => `p/${n}`).sort(), 'each due stream imported exactly once');
      assert.ok(new Set(done.map((d) => d.by)).size === 2, `both schedulers took part: ${JSON.stringify(done)}`);
      for (const name of names) {
        const items = await a.imageStreams.listTagItems('p', name, 'latest', { limit: 10 });
        assert.deepEqual(items.map((i) => [i.generation, i.imageDigest]), [[2, newer.digest], [1, image.digest]], `${name}: one new item, no duplicate`);
        const stream = await a.imageStreams.getStream('p', name);
        assert.equal(stream?.importLeaseOwner, null);
        assert.ok((stream?.nextImportAt ?? 0) > Date.now() + 30 * 60_000);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});
