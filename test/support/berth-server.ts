/**
 * Starting real registry servers for end-to-end tests: Berth itself
 * (`bin/berth.js serve`), and CNCF Distribution (`docker-registry`) as the
 * reference implementation the suites were validated against.
 *
 * Set `BERTH_E2E_TARGET=distribution` to run the e2e suites against CNCF
 * Distribution instead of Berth (`startTarget`); tests of Berth-only
 * behaviour skip themselves there.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';

const execFileAsync = promisify(execFile);

/** The project root (/work/main): test/support/ is two levels down. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StartOptions {
  /** Serve plain HTTP (`--insecure-http`) instead of TLS. */
  insecureHttp?: boolean;
  /** Use this data directory (kept on stop); default a fresh temp dir (removed on stop). */
  dataDir?: string;
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** Extra command-line arguments after `serve ...`. */
  extraArgs?: string[];
  /**
   * The CA of a certificate Berth is configured with (BERTH_TLS__CERT_FILE):
   * Berth then prints no CA line of its own, and clients trust this one.
   */
  caPath?: string;
}

/** One request as the server logged it (normalized across Berth and Distribution). */
export interface RequestLogEntry {
  method: string;
  url: string;
  statusCode: number;
  repository?: string;
  digest?: string;
  reference?: string;
  bytes?: number;
}

export interface RegistryServer {
  readonly kind: 'berth' | 'distribution';
  /** `https://127.0.0.1:<port>` or `http://...`; changes only if restart() had to take a new port. */
  readonly url: string;
  /** `127.0.0.1:<port>`, for image references. */
  readonly hostPort: string;
  /** The CA that signed the server's certificate (undefined over plain HTTP). */
  readonly caPath: string | undefined;
  /** An administrator's credentials (Berth's bootstrap admin), undefined for a registry without access control. */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  readonly dataDir: string;
  readonly pid: number;
  /** Captured stdout lines, all of them since the first start (across restarts). */
  logs(): string[];
  /** Captured stderr lines. */
  stderr(): string[];
  /** The request log lines parsed from the output. */
  requests(): RequestLogEntry[];
  /**
   * Resolves with the first stdout line that matches, waiting up to `timeoutMs`
   * for it: the server's logger writes asynchronously, so a line may arrive
   * after the output that made the test look for it. Rejects on timeout.
   */
  waitForLog(matches: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** How the previous process ended (after stop/kill9/restart), undefined while the first still runs. */
  lastExit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGTERM, wait for exit; removes the data dir unless the caller supplied it. */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit; keeps the data dir (call stop() afterwards to clean up). */
  kill9(): Promise<void>;
  /** Stop (SIGTERM) if running, start again on the same data dir, same port if possible. */
  restart(): Promise<void>;
}

export type BerthServer = RegistryServer;

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** A free TCP port on 127.0.0.1 (for servers that cannot be told to use port 0). */
export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function splitLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      onLine(pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
  };
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/** Parse one log line into a request entry: Berth's pino JSON or Distribution's logrus JSON. */
export function parseRequestLine(line: string): RequestLogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
  // Berth: flat fields, possibly nested as req/res by pino conventions.
  const req = (obj['req'] ?? {}) as Record<string, unknown>;
  const res = (obj['res'] ?? {}) as Record<string, unknown>;
  const method = str(obj['method']) ?? str(req['method']) ?? str(obj['http.request.method']);
  const url = str(obj['url']) ?? str(req['url']) ?? str(obj['http.request.uri']);
  const statusCode = num(obj['statusCode']) ?? num(res['statusCode']) ?? num(obj['http.response.status']);
  if (!method || !url || statusCode === undefined) return undefined;
  const entry: RequestLogEntry = { method, url, statusCode };
  const repository = str(obj['repository']) ?? str(obj['vars.name']);
  if (repository) entry.repository = repository;
  const digest = str(obj['digest']) ?? str(obj['vars.digest']);
  if (digest) entry.digest = digest;
  const reference = str(obj['reference']) ?? str(obj['vars.reference']);
  if (reference) entry.reference = reference;
  const bytes = num(obj['bytes']) ?? num(obj['http.response.written']);
  if (bytes !== undefined) entry.bytes = bytes;
  return entry;
}

interface Launch {
  /** The port the server will listen on (0: it chooses and reports it). */
  port: number;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/**
 * A registry process under test. `launch(port)` says how to start it on a
 * port (0 = let the server choose); `ready` decides from output or probing
 * when it is up and where.
 */
class ManagedServer implements RegistryServer {
  readonly kind: 'berth' | 'distribution';
  readonly dataDir: string;
  #ownsDataDir: boolean;
  #extraCleanup: string[];
  #launch: (port: number) => Promise<Launch>;
  #awaitReady: (server: ManagedServer, child: ChildProcess, port: number) => Promise<void>;
  #child: ChildProcess | undefined;
  #stdout: string[] = [];
  #stderr: string[] = [];
  #lineWaiters: Array<() => void> = [];
  url = '';
  hostPort = '';
  caPath: string | undefined;
  credentials: { readonly username: string; readonly password: string } | undefined;
  #stopped = false;
  #lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(opts: {
    kind: 'berth' | 'distribution';
    dataDir: string;
    ownsDataDir: boolean;
    extraCleanup: string[];
    launch: (port: number) => Promise<Launch>;
    awaitReady: (server: ManagedServer, child: ChildProcess, port: number) => Promise<void>;
  }) {
    this.kind = opts.kind;
    this.dataDir = opts.dataDir;
    this.#ownsDataDir = opts.ownsDataDir;
    this.#extraCleanup = opts.extraCleanup;
    this.#launch = opts.launch;
    this.#awaitReady = opts.awaitReady;
  }

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  logs(): string[] {
    return [...this.#stdout];
  }

  stderr(): string[] {
    return [...this.#stderr];
  }

  requests(): RequestLogEntry[] {
    const out: RequestLogEntry[] = [];
    for (const line of [...this.#stdout, ...this.#stderr]) {
      const entry = parseRequestLine(line);
      if (entry) out.push(entry);
    }
    return out;
  }

  async waitForLog(matches: (line: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; ) {
      const lines = this.#stdout;
      for (; seen < lines.length; seen++) {
        const line = lines[seen];
        if (line !== undefined && matches(line)) return line;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching log line within ${timeoutMs} ms\n${this.outputTail()}`);
      await this.nextLine(left);
    }
  }

  /** The last `n` lines of output, for error messages. */
  outputTail(n = 60): string {
    const out = this.#stdout.slice(-n).map((l) => `stdout| ${l}`);
    const err = this.#stderr.slice(-n).map((l) => `stderr| ${l}`);
    return [...out, ...err].join('\n');
  }

  /** Resolves when a new output line arrives (or after `ms`). */
  nextLine(ms: number): Promise<void> {
    return new Promise((resolveLine) => {
      const timer = setTimeout(resolveLine, ms);
      this.#lineWaiters.push(() => {
        clearTimeout(timer);
        resolveLine();
      });
    });
  }

  /** Output lines captured since index `from` (stdout then stderr). */
  linesSince(fromOut: number, fromErr: number): string[] {
    return [...this.#stdout.slice(fromOut), ...this.#stderr.slice(fromErr)];
  }

  get outCount(): [number, number] {
    return [this.#stdout.length, this.#stderr.length];
  }

  async start(port: number): Promise<void> {
    const launch = await this.#launch(port);
    const child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const notify = (): void => {
      const waiters = this.#lineWaiters;
      this.#lineWaiters = [];
      for (const w of waiters) w();
    };
    child.stdout?.on(
      'data',
      splitLines((line) => {
        this.#stdout.push(line);
        notify();
      }),
    );
    child.stderr?.on(
      'data',
      splitLines((line) => {
        this.#stderr.push(line);
        notify();
      }),
    );
    child.on('exit', (code, signal) => {
      this.#lastExit = { code, signal };
      notify();
    });
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`could not start ${launch.command}: ${err.message}`)));
    });
    try {
      await Promise.race([this.#awaitReady(this, child, launch.port), spawnError]);
    } catch (err) {
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(
        `${this.kind} did not become ready: ${message}\ncommand: ${launch.command} ${launch.args.join(' ')}\n` +
          `output:\n${this.outputTail()}`,
      );
    }
  }

  async #terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, 5000);
      if (signal === 'SIGTERM') {
        throw new Error(`${this.kind} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.outputTail()}`);
      }
    }
  }

  lastExit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.#lastExit;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    const child = this.#child;
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#terminate('SIGTERM');
    } finally {
      if (this.#ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
      for (const dir of this.#extraCleanup) await rm(dir, { recursive: true, force: true });
    }
  }

  async kill9(): Promise<void> {
    await this.#terminate('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error('restart() after stop()');
    await this.#terminate('SIGTERM');
    const port = Number(this.hostPort.split(':')[1]);
    try {
      await this.start(port);
    } catch (first) {
      // The old port may have been taken meanwhile: fall back to a new one.
      try {
        await this.start(0);
      } catch {
        throw first;
      }
    }
  }
}

const LISTENING = /Berth listening on (https?):\/\/([0-9.]+|\[[0-9a-f:]+\]|localhost):(\d+)/;
const CA_LINE = /CA certificate: ([^"\\\n]+?)\s*(?:"|$)/;

/** The bootstrap administrator every test Berth starts with (BERTH_ADMIN_PASSWORD), unless a test sets its own. */
export const TEST_ADMIN = { username: 'admin', password: 'berth-e2e-admin-secret' } as const;

/** Start Berth from this checkout; resolves once it printed its listening line. */
export async function startBerth(options: StartOptions = {}): Promise<BerthServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-e2e-data-')));
  const insecure = options.insecureHttp ?? false;
  const adminPassword = options.env?.['BERTH_ADMIN_PASSWORD'] ?? TEST_ADMIN.password;
  const server = new ManagedServer({
    kind: 'berth',
    dataDir,
    ownsDataDir: options.dataDir === undefined,
    extraCleanup: [],
    launch: async (port) => ({
      port,
      command: process.execPath,
      args: [
        join(PROJECT_ROOT, 'bin', 'berth.js'),
        'serve',
        '--data',
        dataDir,
        '--listen',
        `127.0.0.1:${port}`,
        ...(insecure ? ['--insecure-http'] : []),
        ...(options.extraArgs ?? []),
      ],
      env: { ...process.env, BERTH_ADMIN_PASSWORD: adminPassword, ...options.env } as Record<string, string>,
      cwd: PROJECT_ROOT,
    }),
    awaitReady: async (srv, child) => {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      const [fromOut, fromErr] = srv.outCount;
      for (;;) {
        let listening: RegExpExecArray | null = null;
        let ca: RegExpExecArray | null = null;
        for (const line of srv.linesSince(fromOut, fromErr)) {
          listening ??= LISTENING.exec(line);
          ca ??= CA_LINE.exec(line);
        }
        if (listening && (insecure || ca || options.caPath !== undefined)) {
          const scheme = listening[1] ?? 'https';
          if (scheme !== (insecure ? 'http' : 'https')) {
            throw new Error(`expected ${insecure ? 'http' : 'https'}, Berth says ${listening[0]}`);
          }
          srv.hostPort = `${listening[2]}:${listening[3]}`;
          srv.url = `${scheme}://${srv.hostPort}`;
          srv.caPath = options.caPath ?? ca?.[1]?.trim();
          return;
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`exited early (code ${child.exitCode}, signal ${child.signalCode})`);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no "Berth listening on" line within ${READY_TIMEOUT_MS} ms`);
        await srv.nextLine(Math.min(left, 250));
      }
    },
  });
  server.credentials = { username: TEST_ADMIN.username, password: adminPassword };
  try {
    await server.start(0);
  } catch (err) {
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return server;
}

/**
 * The config.yml lines of a CNCF Distribution for tests: filesystem storage,
 * deletes enabled, JSON logs without access log, bound to 127.0.0.1.
 */
export function distributionConfig(options: {
  rootDirectory: string;
  port: number;
  secret: string;
  tls?: { certPath: string; keyPath: string } | undefined;
  /** Off keeps interrupted uploads around for restart tests. */
  uploadPurging?: boolean;
}): string[] {
  return [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: json',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${options.rootDirectory}`,
    '  delete:',
    '    enabled: true',
    ...(options.uploadPurging === false ? ['  maintenance:', '    uploadpurging:', '      enabled: false'] : []),
    'http:',
    `  addr: 127.0.0.1:${options.port}`,
    `  secret: ${options.secret}`,
    ...(options.tls ? ['  tls:', `    certificate: ${options.tls.certPath}`, `    key: ${options.tls.keyPath}`] : []),
  ];
}

/** Generate a CA and a server certificate for 127.0.0.1/localhost with openssl. */
export async function generateTestCa(dir: string): Promise<{ caPath: string; certPath: string; keyPath: string }> {
  await mkdir(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certPath = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  const openssl = async (args: string[]): Promise<void> => {
    try {
      await execFileAsync('openssl', args, { cwd: dir });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
    }
  };
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caPath, '-days', '2',
    '-subj', '/CN=Berth e2e test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', csr, '-subj', '/CN=127.0.0.1']);
  await writeFile(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await openssl(['x509', '-req', '-in', csr, '-CA', caPath, '-CAkey', caKey, '-CAcreateserial', '-out', certPath,
    '-days', '2', '-extfile', ext]);
  return { caPath, certPath, keyPath };
}

/**
 * Start CNCF Distribution (`/usr/bin/docker-registry`) with filesystem
 * storage, deletes enabled and JSON logs, over TLS with a generated CA unless
 * `insecureHttp`.
 */
export async function startDistribution(options: StartOptions = {}): Promise<RegistryServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-e2e-distribution-')));
  const confDir = await mkdtemp(join(tmpdir(), 'berth-e2e-distribution-conf-'));
  const insecure = options.insecureHttp ?? false;
  const tls = insecure ? undefined : await generateTestCa(confDir);
  const configPath = join(confDir, 'config.yml');
  const writeConfig = async (port: number): Promise<void> => {
    const lines = distributionConfig({
      rootDirectory: join(dataDir, 'registry'),
      port,
      // A fixed secret so that upload state survives restarts.
      secret: 'berth-e2e-fixed-secret',
      tls,
      uploadPurging: false,
    });
    await writeFile(configPath, lines.join('\n') + '\n');
  };
  const server = new ManagedServer({
    kind: 'distribution',
    dataDir,
    ownsDataDir: options.dataDir === undefined,
    extraCleanup: [confDir],
    launch: async (port) => {
      // Distribution cannot report a port it chose, so pick one and write it into the config.
      const chosen = port === 0 ? await freePort() : port;
      await writeConfig(chosen);
      return {
        port: chosen,
        command: 'docker-registry',
        args: ['serve', configPath, ...(options.extraArgs ?? [])],
        env: { ...process.env, ...options.env } as Record<string, string>,
        cwd: confDir,
      };
    },
    awaitReady: async (srv, child, port) => {
      const scheme = tls ? 'https' : 'http';
      const dispatcher = new Agent(tls ? { connect: { ca: await readFile(tls.caPath, 'utf8') } } : {});
      const deadline = Date.now() + READY_TIMEOUT_MS;
      try {
        for (;;) {
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`exited early (code ${child.exitCode}, signal ${child.signalCode})`);
          }
          try {
            const res = await request(`${scheme}://127.0.0.1:${port}/v2/`, { dispatcher });
            await res.body.dump();
            if (res.statusCode === 200) break;
          } catch {
            // not yet listening
          }
          if (Date.now() > deadline) throw new Error(`GET /v2/ did not answer 200 within ${READY_TIMEOUT_MS} ms`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await dispatcher.close();
      }
      srv.hostPort = `127.0.0.1:${port}`;
      srv.url = `${scheme}://${srv.hostPort}`;
      srv.caPath = tls?.caPath;
    },
  });
  try {
    await server.start(0);
  } catch (err) {
    await rm(confDir, { recursive: true, force: true });
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return server;
}

/** Which registry the e2e suites run against: Berth unless BERTH_E2E_TARGET=distribution. */
export const TARGET: 'berth' | 'distribution' =
  process.env['BERTH_E2E_TARGET'] === 'distribution' ? 'distribution' : 'berth';

/** Start the registry under test (see TARGET). */
export async function startTarget(options: StartOptions = {}): Promise<RegistryServer> {
  return TARGET === 'distribution' ? await startDistribution(options) : await startBerth(options);
}
