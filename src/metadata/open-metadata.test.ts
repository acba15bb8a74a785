import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Migrator, sql, type Kysely } from 'kysely';
import { migrationProvider } from './migrations.ts';
import { InvalidDatabaseUrlError, UnsupportedDatabaseError } from './errors.ts';
import { openKyselyMetadata, openMetadata } from './open-metadata.ts';

describe('openMetadata', () => {
  it('refuses an unknown scheme, naming it', async () => {
    for (const [url, scheme] of [
      ['mysql://localhost/berth', 'mysql'],
      ['berth.db', ''],
      ['file:/tmp/berth.db', 'file'],
      ['SQLITE3:/tmp/x.db', 'sqlite3'],
    ] as const) {
      await assert.rejects(openMetadata({ url }), (error: unknown) => {
        assert.ok(error instanceof UnsupportedDatabaseError, url);
        assert.equal(error.scheme, scheme);
        return true;
      });
    }
  });

  it('refuses a relative SQLite path', async () => {
    await assert.rejects(openMetadata({ url: 'sqlite:data/berth.db' }), InvalidDatabaseUrlError);
  });

  it('fails at open, not at first use, when PostgreSQL does not answer', async () => {
    // Port 1 on loopback: connection refused at once.
    await assert.rejects(openMetadata({ url: 'postgres://postgres@127.0.0.1:1/postgres' }), /ECONNREFUSED/);
  });

  it('opens an in-memory SQLite database that migrates and works', async () => {
    const metadata = await openMetadata({ url: 'sqlite::memory:' });
    try {
      assert.equal(metadata.dialect, 'sqlite');
      await metadata.migrate();
      await metadata.repositories.ensureRepository('p/r', 'p', 1);
      assert.deepEqual(await metadata.repositories.listRepositories({ limit: 10 }), ['p/r']);
    } finally {
      await metadata.close();
    }
  });

  it('migration 0005 counts the streams that exist when it runs as imported (no full import of each after an upgrade)', async () => {
    const metadata = await openKyselyMetadata({ url: 'sqlite::memory:' });
    try {
      const db = metadata.db as Kysely<unknown>;
      const migrator = new Migrator({ db, provider: migrationProvider('sqlite') });
      const before = await migrator.migrateTo('0004_pull_secrets');
      assert.equal(before.error, undefined);
      await sql`insert into image_streams (project, name, uid, created_at, generation, resource_version, spec, annotations, status_conditions)
        values ('p', 'app', 'u1', 1, 3, 5, ${JSON.stringify({ dockerImageRepository: 'registry.example.com/lib/app' })}, '{}', '[]')`.execute(db);
      await metadata.migrate();
      const stream = await metadata.imageStreams.getStream('p', 'app');
      assert.equal(stream?.generation, 3);
      assert.equal(stream?.importedGeneration, 3);
      // Streams created afterwards still start with no import.
      await metadata.imageStreams.createStream('p', 'new', 1, {}, {});
      assert.equal((await metadata.imageStreams.getStream('p', 'new'))?.importedGeneration, null);
    } finally {
      await metadata.close();
    }
  });

  it('opens a SQLite file in WAL mode with foreign keys on, binding booleans and undefined', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-open-'));
    try {
      const file = path.join(dir, 'berth.db');
      const metadata = await openKyselyMetadata({ url: `sqlite:${file}` });
      try {
        const pragmas = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(metadata.db);
        assert.equal(pragmas.rows[0]?.journal_mode, 'wal');
        const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(metadata.db);
        assert.equal(fk.rows[0]?.foreign_keys, 1);
        const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(metadata.db);
        assert.equal(sync.rows[0]?.synchronous, 1, 'NORMAL');
        const bound = await sql<{ t: number; f: number; u: null }>`select ${true} as t, ${false} as f, ${undefined} as u`.execute(
          metadata.db,
        );
        assert.deepEqual({ ...bound.rows[0] }, { t: 1, f: 0, u: null });
      } finally {
        await metadata.close();
      }
      assert.ok((await stat(file)).size > 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
