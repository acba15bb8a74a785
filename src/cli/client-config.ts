/**
 * The client config of the `berth` command: which servers the user logged
 * into, as whom, with which tokens, trusting which CA, in which project.
 *
 * It lives in `$BERTH_CONFIG_DIR/config.yaml`, else
 * `$XDG_CONFIG_HOME/berth/config.yaml`, else `~/.config/berth/config.yaml`.
 * It holds bearer tokens, so the file is 0600 and a directory we create is
 * 0700; every write replaces the file by rename so that a crash never leaves
 * half a config (and the tokens in it) behind.
 */
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { CliError } from './cli-errors.ts';

const serverEntrySchema = z.object({
  /** `https://host:port`, no path, no trailing slash: the key of the entry. */
  url: z.string().min(1),
  user: z.string().optional(),
  accessToken: z.string().optional(),
  refreshToken: z.string().optional(),
  /** Absolute path of the CA file given at login, read again on every run. */
  certificateAuthority: z.string().optional(),
  insecureSkipTlsVerify: z.boolean().optional(),
  /** The current project on this server (`berth project NAME`). */
  project: z.string().optional(),
});

const configSchema = z.object({
  currentServer: z.string().optional(),
  servers: z.array(serverEntrySchema).default([]),
});

/** What the CLI remembers about one server. */
export type ServerEntry = z.infer<typeof serverEntrySchema>;

/** The whole client config file. */
export interface ClientConfig {
  /** URL of the server commands talk to unless told otherwise. */
  currentServer?: string | undefined;
  servers: ServerEntry[];
}

/** The directory of the client config, from the environment (see the module comment). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['BERTH_CONFIG_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'berth');
  return join(homedir(), '.config', 'berth');
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.yaml');
}

/**
 * `https://h:p/` or `h:p` → `https://h:p`. Servers are keyed by this form so
 * that `berth login h:p` and `berth login https://h:p/` find the same entry.
 *
 * @throws CliError('usage') when it is not an http(s) URL.
 */
export function normalizeServerUrl(input: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError('usage', `not a server URL: ${input}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new CliError('usage', `not an http(s) server URL: ${input}`);
  if (url.pathname !== '/' && url.pathname !== '' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new CliError('usage', `a server URL has no path, query or credentials: ${input}`);
  }
  return url.origin;
}

/** Reads and writes the config file; every method reads the file afresh so concurrent commands lose as little as possible. */
export class ConfigStore {
  readonly path: string;

  constructor(path: string = configPath()) {
    this.path = path;
  }

  /**
   * The config, or an empty one when the file does not exist.
   *
   * @throws CliError('config') when the file cannot be read or is not a Berth client config.
   */
  async load(): Promise<ClientConfig> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { servers: [] };
      throw new CliError('config', `cannot read ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let raw: unknown;
    try {
      raw = parse(text) ?? {};
    } catch (error) {
      throw new CliError('config', `${this.path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    const parsed = configSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
      throw new CliError('config', `${this.path} is not a Berth client config${where}: ${issue?.message ?? 'invalid'}`);
    }
    return { currentServer: parsed.data.currentServer, servers: parsed.data.servers };
  }

  /**
   * Writes the config: dir 0700 if we create it, file 0600, by rename.
   *
   * @throws CliError('config')
   */
  async save(config: ClientConfig): Promise<void> {
    const dir = dirname(this.path);
    const tmp = join(dir, `.config.yaml.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Open with the final mode so the tokens are never readable by others, not even between write and chmod.
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(stringify(toPlain(config)), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      // The umask may have narrowed the mode further; never widen beyond 0600, but make it exactly that.
      await chmod(tmp, 0o600);
      await rename(tmp, this.path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw new CliError('config', `cannot write ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Load, change, save: `change` returns what to write (and may return the same object mutated). */
  async update(change: (config: ClientConfig) => ClientConfig): Promise<ClientConfig> {
    const next = change(await this.load());
    await this.save(next);
    return next;
  }
}

/** Drops undefined fields so the YAML has no `key: null` noise. */
function toPlain(config: ClientConfig): Record<string, unknown> {
  const strip = (o: object): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return { ...strip({ currentServer: config.currentServer }), servers: config.servers.map(strip) };
}

/** The entry for `url` (normalized), if any. */
export function findServer(config: ClientConfig, url: string): ServerEntry | undefined {
  return config.servers.find((s) => s.url === url);
}

/**
 * A copy of `config` with `url`'s entry merged with `patch` (created when
 * missing); fields set to undefined in `patch` are removed. Other servers are
 * left as they were.
 */
export function withServer(config: ClientConfig, url: string, patch: Partial<ServerEntry>): ClientConfig {
  const existing = findServer(config, url);
  const merged: ServerEntry = { ...(existing ?? { url }), ...patch, url };
  for (const key of Object.keys(patch) as (keyof ServerEntry)[]) {
    if (patch[key] === undefined) delete merged[key];
  }
  const servers = existing === undefined ? [...config.servers, merged] : config.servers.map((s) => (s.url === url ? merged : s));
  return { ...config, servers };
}

/**
 * The server a command talks to: the current one.
 *
 * @throws CliError('not-configured') when there is none.
 */
export function currentServer(config: ClientConfig): ServerEntry {
  const url = config.currentServer;
  const entry = url === undefined ? undefined : findServer(config, url);
  if (entry === undefined) throw new CliError('not-configured', 'no server selected: log in first with `berth login URL`');
  return entry;
}
