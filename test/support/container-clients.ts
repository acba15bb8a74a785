/**
 * Running the real container clients (skopeo, podman, buildah) against a
 * registry under test, with per-test certificate directories and storage:
 *
 * - TLS: `--cert-dir` (or skopeo's `--src-cert-dir`/`--dest-cert-dir`) with
 *   the server's CA as `ca.crt`; `--tls-verify=false` only for plain HTTP.
 *   Nothing under /etc is touched.
 * - podman/buildah: a private `--root`/`--runroot` with the vfs driver (works
 *   as root without a daemon or fuse-overlayfs), `--events-backend=none`.
 *   podman refuses a runroot longer than 50 characters, so the storage lives
 *   in a short /tmp/bst-XXXXXX directory: call cleanup() when done.
 * - skopeo/podman/buildah keep a blob-info cache in
 *   /var/lib/containers/cache (as root there is no flag to move it); it only
 *   remembers which registry host:port held which digest, which is what lets
 *   them try cross-repository mounts.
 * - TMPDIR points into the work dir, so big temporary blobs stay there.
 *
 * Every helper captures stdout and stderr and fails with both, and the
 * command line, when the exit status is not 0.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Kill the command after this long (default 5 minutes). */
  timeoutMs?: number;
  /** Do not throw on a non-zero exit; return the result. */
  allowFailure?: boolean;
  cwd?: string;
}

export class CommandError extends Error {
  readonly result: RunResult;
  constructor(result: RunResult) {
    super(
      `command failed (exit ${result.code ?? result.signal}): ${result.command}\n` +
        `--- stderr ---\n${result.stderr.trim()}\n--- stdout ---\n${result.stdout.trim().slice(-4000)}`,
    );
    this.name = 'CommandError';
    this.result = result;
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Run a command, capturing output; throws CommandError on failure unless allowFailure. */
export async function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const display = [command, ...args].map(quote).join(' ');
  const result = await new Promise<RunResult>((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      err.push(Buffer.from(`\n[killed after ${options.timeoutMs ?? 300_000} ms]\n`));
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${display}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({
        command: display,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
  if (result.code !== 0 && !options.allowFailure) throw new CommandError(result);
  return result;
}

export interface ClientsOptions {
  /** A scratch directory owned by the test (storage roots, cert dir, TMPDIR live here). */
  workDir: string;
  /** The registry's CA (PEM file); required unless `insecure`. */
  caPath?: string | undefined;
  /** Plain HTTP registry: `--tls-verify=false`. */
  insecure?: boolean;
  /** Log in to `registry` (host:port) with these: written to an auth file that every client reads (REGISTRY_AUTH_FILE). */
  credentials?: { readonly username: string; readonly password: string } | undefined;
  registry?: string;
}

/** Flags for one side of a registry connection. */
interface TlsFlags {
  certDir?: string;
  insecure: boolean;
}

export interface ContainerClients {
  readonly workDir: string;
  /** The directory holding `ca.crt` (undefined over plain HTTP). */
  readonly certDir: string | undefined;
  /** Raw skopeo with the given args (adds only the global `--policy`-free defaults). */
  skopeo(args: string[], options?: RunOptions): Promise<RunResult>;
  /** `skopeo copy` with TLS flags on every `docker://` side. */
  skopeoCopy(src: string, dest: string, extraArgs?: string[], options?: RunOptions): Promise<RunResult>;
  /** `skopeo inspect [--raw|--config]` of a `docker://` reference; returns stdout. */
  skopeoInspect(ref: string, extraArgs?: string[], options?: RunOptions): Promise<RunResult>;
  /** `skopeo delete` of a `docker://` reference. */
  skopeoDelete(ref: string, options?: RunOptions): Promise<RunResult>;
  /** podman with a private vfs storage named `store` (one per name, under workDir). */
  podman(store: string, args: string[], options?: RunOptions): Promise<RunResult>;
  /** buildah with a private vfs storage named `store` (the same store podman uses by that name). */
  buildah(store: string, args: string[], options?: RunOptions): Promise<RunResult>;
  /** TLS flags for podman/buildah/skopeo-inspect style commands (`--cert-dir`/`--tls-verify`). */
  tlsArgs(): string[];
  /** Remove the podman/buildah storage (the work dir is the caller's to remove). */
  cleanup(): Promise<void>;
}

export async function createClients(options: ClientsOptions): Promise<ContainerClients> {
  const workDir = options.workDir;
  const insecure = options.insecure ?? false;
  const tmp = join(workDir, 'tmp');
  await mkdir(tmp, { recursive: true });
  let certDir: string | undefined;
  if (!insecure) {
    if (!options.caPath) throw new Error('createClients: caPath is required for a TLS registry');
    certDir = join(workDir, 'certs.d');
    await mkdir(certDir, { recursive: true });
    await copyFile(options.caPath, join(certDir, 'ca.crt'));
  }
  const tls: TlsFlags = { insecure, ...(certDir ? { certDir } : {}) };
  const env: Record<string, string> = { TMPDIR: tmp };
  if (options.credentials !== undefined && options.registry !== undefined) {
    const authFile = join(workDir, 'auth.json');
    const auth = Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64');
    await writeFile(authFile, JSON.stringify({ auths: { [options.registry]: { auth } } }), { mode: 0o600 });
    env['REGISTRY_AUTH_FILE'] = authFile;
  }
  const withEnv = (o: RunOptions = {}): RunOptions => ({ ...o, env: { ...env, ...o.env } });

  const plainTls = (): string[] => (tls.insecure ? ['--tls-verify=false'] : ['--cert-dir', tls.certDir ?? '', '--tls-verify=true']);
  const sideTls = (side: 'src' | 'dest', ref: string): string[] => {
    if (!ref.startsWith('docker://')) return [];
    return tls.insecure ? [`--${side}-tls-verify=false`] : [`--${side}-cert-dir`, tls.certDir ?? '', `--${side}-tls-verify=true`];
  };
  const storage = await mkdtemp('/tmp/bst-');
  const storeArgs = (store: string): string[] => {
    if (!/^[a-z0-9-]{1,16}$/.test(store)) throw new Error(`store name must be short [a-z0-9-]: ${store}`);
    return ['--root', join(storage, store, 'root'), '--runroot', join(storage, store, 'run'), '--storage-driver', 'vfs'];
  };

  return {
    workDir,
    certDir,
    skopeo: (args, o) => run('skopeo', args, withEnv(o)),
    skopeoCopy: (src, dest, extraArgs = [], o) =>
      run('skopeo', ['copy', '--retry-times', '0', ...sideTls('src', src), ...sideTls('dest', dest), ...extraArgs, src, dest], withEnv(o)),
    skopeoInspect: (ref, extraArgs = [], o) => run('skopeo', ['inspect', ...plainTls(), ...extraArgs, ref], withEnv(o)),
    skopeoDelete: (ref, o) => run('skopeo', ['delete', ...plainTls(), ref], withEnv(o)),
    podman: (store, args, o) => run('podman', [...storeArgs(store), '--events-backend=none', '--cgroup-manager=cgroupfs', ...args], withEnv(o)),
    buildah: (store, args, o) => run('buildah', [...storeArgs(store), ...args], withEnv(o)),
    tlsArgs: plainTls,
    cleanup: () => rm(storage, { recursive: true, force: true }),
  };
}
