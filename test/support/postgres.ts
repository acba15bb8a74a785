/**
 * A real PostgreSQL database for tests.
 *
 * Where the server comes from, in order:
 *   1. `BERTH_TEST_POSTGRES_URL` (any database on the server; used to create others);
 *   2. a local server at 127.0.0.1:5432 or on the unix socket /var/run/postgresql (trust auth);
 *   3. PostgreSQL installed but not running: a throwaway cluster (pg_createcluster,
 *      trust auth, 127.0.0.1, a free port), started once per test process and
 *      stopped and dropped when its last database is cleaned up.
 *
 * Every caller gets a fresh database `berth_test_<random>`, dropped in cleanup,
 * with an en-US (ICU) default collation where the server has ICU.
 * A skip is returned only when PostgreSQL is not installed at all, and never in
 * CI (`CI` set), where a missing PostgreSQL fails the run.
 */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/** A database created for one caller. */
export interface TestPostgres {
  /** Connection URL of the fresh database. */
  readonly url: string;
  /** Terminates the database's connections and drops it (and the throwaway cluster after its last database). */
  cleanup(): Promise<void>;
}

/** Why PostgreSQL tests cannot run here (only when PostgreSQL is not installed, outside CI). */
export interface TestPostgresSkip {
  readonly skip: string;
}

/** PostgreSQL could not be provided although the environment says it must be. */
export class TestPostgresError extends Error {
  override readonly name = 'TestPostgresError';
}

const LOCAL_URLS = [
  'postgres://postgres@127.0.0.1:5432/postgres',
  'postgres://postgres@localhost/postgres?host=/var/run/postgresql',
] as const;

/**
 * Test databases sort text like a typical production database (en-US, where
 * 'a' < 'B' < 'a-b'), not like the C locale the test server may default to, so
 * that code relying on the database's default collation for byte order fails
 * here rather than in production.
 */
const LINGUISTIC = "template template0 encoding 'UTF8' locale_provider icu icu_locale 'en-US'";

/** SQLSTATE 55006: CREATE DATABASE found template1 in use by another session. */
const OBJECT_IN_USE = '55006';

interface Cluster {
  readonly adminUrl: string;
  /** Stops and drops the cluster, if this process created it. */
  readonly stop: (() => void) | undefined;
}

let clusterPromise: Promise<Cluster | TestPostgresSkip> | undefined;
let users = 0;

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new TestPostgresError(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${String(result.status)}`}): ${result.stderr}`,
    );
  }
}

function newestInstalledVersion(): string {
  // Debian installs each major under /usr/lib/postgresql/<major>.
  const versions = readdirSync('/usr/lib/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (newest === undefined) throw new TestPostgresError('pg_createcluster exists but no /usr/lib/postgresql/<major>');
  return newest;
}

async function startThrowawayCluster(): Promise<Cluster> {
  const version = newestInstalledVersion();
  const name = `berth_test_${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  // SERVICES.md §4: listen_addresses goes in a conf.d file, because
  // pg_createcluster -o and pg_conftool quote it so the server won't start.
  const configDir = `/etc/postgresql/${version}/${name}`;
  run('pg_createcluster', [version, name, '-p', String(port), '--', '-A', 'trust']);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    spawnSync('pg_ctlcluster', [version, name, 'stop', '-m', 'fast'], { timeout: 60_000 });
    spawnSync('pg_dropcluster', [version, name], { timeout: 60_000 });
    // pg_dropcluster leaves files it did not create (our conf.d entry) behind.
    rmSync(configDir, { recursive: true, force: true });
  };
  // Synchronous, so it also runs from 'exit' when a test run ends abruptly.
  process.once('exit', stop);
  try {
    writeFileSync(join(configDir, 'conf.d', 'berth-test.conf'), "listen_addresses = '127.0.0.1'\n");
    run('pg_ctlcluster', [version, name, 'start']);
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    for (let attempt = 0; !(await answers(adminUrl)); attempt++) {
      if (attempt >= 50) throw new TestPostgresError(`throwaway cluster ${version}/${name} does not answer on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { adminUrl, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

async function findCluster(): Promise<Cluster | TestPostgresSkip> {
  const fromEnv = process.env.BERTH_TEST_POSTGRES_URL;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!(await answers(fromEnv))) throw new TestPostgresError('BERTH_TEST_POSTGRES_URL is set but does not answer');
    return { adminUrl: fromEnv, stop: undefined };
  }
  for (const url of LOCAL_URLS) {
    if (await answers(url)) return { adminUrl: url, stop: undefined };
  }
  if (onPath('pg_createcluster')) return startThrowawayCluster();
  const reason = 'PostgreSQL is not installed (no server answers and pg_createcluster is not on PATH)';
  if (process.env.CI !== undefined && process.env.CI !== '') throw new TestPostgresError(`${reason}; required in CI`);
  return { skip: reason };
}

/** One admin pool per server, reused across databases (a new connection makes CREATE DATABASE slower). */
const adminPools = new Map<string, pg.Pool>();

async function withAdmin<T>(adminUrl: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  let pool = adminPools.get(adminUrl);
  if (pool === undefined) {
    // allowExitOnIdle: a test file that forgets cleanup must not hang on this pool.
    pool = new pg.Pool({ connectionString: adminUrl, max: 2, connectionTimeoutMillis: 5000, allowExitOnIdle: true });
    pool.on('error', () => {});
    adminPools.set(adminUrl, pool);
  }
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function release(cluster: Cluster): Promise<void> {
  users -= 1;
  if (users > 0) return;
  const pool = adminPools.get(cluster.adminUrl);
  adminPools.delete(cluster.adminUrl);
  await pool?.end();
  if (cluster.stop !== undefined) {
    cluster.stop();
    clusterPromise = undefined;
  }
}

/**
 * A fresh, empty database on a real PostgreSQL server, or the reason there is none.
 * Call `cleanup()` when done (in `after`), even when the test failed.
 */
export async function testPostgresUrl(): Promise<TestPostgres | TestPostgresSkip> {
  // One server per process: concurrent callers share the probe and the cluster.
  clusterPromise ??= findCluster();
  let cluster: Cluster | TestPostgresSkip;
  try {
    cluster = await clusterPromise;
  } catch (error) {
    clusterPromise = undefined;
    throw error;
  }
  if ('skip' in cluster) return cluster;
  users += 1;
  const { adminUrl } = cluster;
  const database = `berth_test_${randomBytes(6).toString('hex')}`;
  let linguistic = true;
  try {
    await withAdmin(adminUrl, async (client) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.query(`create database "${database}" ${linguistic ? LINGUISTIC : ''}`);
          return;
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (linguistic && code !== OBJECT_IN_USE) {
            // Server without ICU (or older than 15): take its default collation.
            linguistic = false;
            continue;
          }
          // Another session briefly connected to template1: retry.
          if (code !== OBJECT_IN_USE || attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    });
  } catch (error) {
    await release(cluster);
    throw error;
  }
  let cleaned = false;
  return {
    url: databaseUrl(adminUrl, database),
    cleanup: async () => {
      if (cleaned) return;
      cleaned = true;
      try {
        await withAdmin(adminUrl, async (client) => {
          // A leaked pool would otherwise make DROP DATABASE fail.
          await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
            database,
          ]);
          await client.query(`drop database if exists "${database}"`);
        });
      } finally {
        await release(cluster);
      }
    },
  };
}
