/**
 * The containers auth file (containers-auth.json(5)) that podman, skopeo,
 * buildah and docker read: `{"auths":{"host:port":{"auth":"base64(user:secret)"}}}`.
 * `berth registry login` merges one entry into it and keeps everything else
 * (other registries, credHelpers, unknown keys) as it was.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './cli-errors.ts';

/**
 * Where podman looks: `$REGISTRY_AUTH_FILE`, else
 * `$XDG_RUNTIME_DIR/containers/auth.json`, else `~/.config/containers/auth.json`.
 */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['REGISTRY_AUTH_FILE'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') return join(runtime, 'containers', 'auth.json');
  return join(homedir(), '.config', 'containers', 'auth.json');
}

/** The `auth` value of an entry: base64 of `user:secret`. */
export function basicAuth(user: string, secret: string): string {
  return Buffer.from(`${user}:${secret}`, 'utf8').toString('base64');
}

/**
 * `existing` (the file's text, or undefined when there is none) with
 * `auths[host]` replaced by `{auth}`; other keys untouched.
 *
 * @throws CliError('file') when the text is not a JSON object with an object `auths`.
 */
export function mergeAuthEntry(existing: string | undefined, host: string, auth: string, path = 'the auth file'): Record<string, unknown> {
  let root: unknown = {};
  if (existing !== undefined && existing.trim() !== '') {
    try {
      root = JSON.parse(existing);
    } catch {
      throw new CliError('file', `${path} is not JSON; fix or remove it`);
    }
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new CliError('file', `${path} is not a JSON object; fix or remove it`);
  const auths = (root as Record<string, unknown>)['auths'] ?? {};
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw new CliError('file', `${path}: "auths" is not an object; fix or remove it`);
  return { ...(root as Record<string, unknown>), auths: { ...(auths as Record<string, unknown>), [host]: { auth } } };
}

/**
 * Merges the entry into the file at `path`, written 0600 by rename (it holds
 * a bearer token); a directory we create is 0700.
 *
 * @throws CliError('file')
 */
export async function writeAuthEntry(path: string, host: string, auth: string): Promise<void> {
  let existing: string | undefined;
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError('file', `cannot read ${path}: ${(error as Error).message}`);
  }
  const merged = mergeAuthEntry(existing, host, auth, path);
  const tmp = join(dirname(path), `.auth.json.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(merged, null, '\t')}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new CliError('file', `cannot write ${path}: ${(error as Error).message}`);
  }
}
