import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * The configuration cannot be loaded: a file that cannot be read or parsed,
 * an unknown key or `BERTH_*` variable, or a value that fails validation.
 * The message has one line per problem, each naming the setting's path (or the
 * variable / file) first, so it can be printed as is before exiting.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The problems, one line each, in the order found. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(problems.join('\n'), options);
    this.problems = problems;
  }
}

/** Log levels pino knows, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Blob drivers selectable by `storage.driver`; each has a section of the same name under `storage`. */
export const STORAGE_DRIVERS = ['filesystem'] as const;

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses `listen` without throwing; see {@link parseListen}. */
export function tryParseListen(listen: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  if (match === null) return undefined;
  const [, v6, named, portText] = match;
  const port = Number(portText);
  if (!Number.isInteger(port) || port > 65535) return undefined;
  if (v6 !== undefined) {
    // Let the URL parser decide what a valid IPv6 literal is, rather than a hand-rolled regex.
    if (!URL.canParse(`http://[${v6}]/`)) return undefined;
    return { host: v6, port };
  }
  const host = named ?? '';
  if (host === '') return { host: '0.0.0.0', port };
  if (!IPV4.test(host) && !HOSTNAME.test(host)) return undefined;
  return { host, port };
}

/**
 * Splits a `listen` setting into the host and port to bind.
 *
 * Accepts `host:port`, `1.2.3.4:port`, `[v6]:port` (brackets removed in the
 * result) and `:port`, which means every IPv4 interface (`0.0.0.0`). Port 0
 * asks the OS for a free port (tests).
 *
 * @throws ConfigError when the text is not of that form.
 */
export function parseListen(listen: string): { host: string; port: number } {
  const parsed = tryParseListen(listen);
  if (parsed === undefined) throw new ConfigError([`listen: expected HOST:PORT, got ${JSON.stringify(listen)}`]);
  return parsed;
}

/** `sqlite:<path>` (or `sqlite::memory:`), `postgres://…` or `postgresql://…`. */
function isDatabaseUrl(url: string): boolean {
  if (/^sqlite:.+/.test(url)) return true;
  if (/^postgres(ql)?:\/\//.test(url)) return URL.canParse(url);
  return false;
}

const nonEmpty = z.string().min(1);

/**
 * The config file as written: every key optional, defaults filled in, unknown
 * keys rejected at every level (a typo must not silently fall back to a
 * default). Settings derived from other settings (storage root, database URL)
 * stay optional here and are filled in by {@link createConfigSchema}.
 *
 * Nested sections use `prefault({})`, not `default({})`, so that an absent
 * section is parsed and receives its fields' defaults (zod 4 returns a
 * `default` value as is).
 *
 * The environment variables are derived from this schema's shape, so a new
 * setting gets its `BERTH_…` variable by being added here.
 */
export const configFileSchema = z.strictObject({
  /** Address to bind, HOST:PORT. */
  listen: z
    .string()
    .refine((value) => tryParseListen(value) !== undefined, { message: 'expected HOST:PORT' })
    .default('0.0.0.0:5000'),
  /**
   * The URL clients reach the registry at (`https://registry.example.com`), for OAuth redirects and
   * the issuer; default `<scheme>://<listen host, or localhost for a wildcard>:<port>`.
   */
  externalUrl: nonEmpty.refine((value) => URL.canParse(value), { message: "expected a URL" }).optional(),
  /** Directory of all local state; relative paths are resolved against the working directory. */
  dataDir: nonEmpty.default('./data'),
  tls: z
    .strictObject({
      /** Serve HTTPS. Without certFile/keyFile, a local CA under <dataDir>/tls issues the certificate. */
      enabled: z.boolean().default(true),
      /** PEM certificate (chain) to serve instead of the local CA's. */
      certFile: nonEmpty.optional(),
      /** PEM private key of certFile. */
      keyFile: nonEmpty.optional(),
      /** Extra DNS names and IPs for the local server certificate, beyond this machine's own. */
      hostnames: z.array(nonEmpty).default([]),
    })
    .superRefine((tls, context) => {
      if (tls.certFile !== undefined && tls.keyFile === undefined) {
        context.addIssue({ code: 'custom', path: ['keyFile'], message: 'required when tls.certFile is set' });
      }
      if (tls.keyFile !== undefined && tls.certFile === undefined) {
        context.addIssue({ code: 'custom', path: ['certFile'], message: 'required when tls.keyFile is set' });
      }
    })
    .prefault({}),
  storage: z
    .strictObject({
      driver: z.enum(STORAGE_DRIVERS).default('filesystem'),
      filesystem: z
        .strictObject({
          /** Root directory of blobs; defaults to <dataDir>/blobs. */
          root: nonEmpty.optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  database: z
    .strictObject({
      /** `sqlite:<path>` (default `sqlite:<dataDir>/berth.db`) or `postgres://user:pass@host/db`. */
      url: nonEmpty
        .refine(isDatabaseUrl, { message: 'expected sqlite:PATH or postgres://USER@HOST/DB' })
        .optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** Log one line per HTTP request. */
      requests: z.boolean().default(true),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Authenticated users may create projects (and become their registry-admin). */
      selfProvisioning: z.boolean().default(true),
      /** A push into a project that does not exist creates it, owned by the pusher, when the pusher may create projects. */
      createProjectOnPush: z.boolean().default(true),
      /** Lifetime of registry (Docker) tokens, in seconds. */
      tokenLifetimeSeconds: z.int().min(30).max(3600).default(300),
      /** The `service` of the Bearer challenge and the tokens' audience. */
      service: nonEmpty.default('berth'),
      /** The administrator created on first start (its password: BERTH_ADMIN_PASSWORD, or generated and printed once). */
      adminUser: nonEmpty.default('admin'),
      /** Failed password logins allowed per user name and per client address within the window before logins are refused. */
      maxLoginFailures: z.int().min(1).default(10),
      loginFailureWindowSeconds: z.int().min(1).default(300),
      /** Base64 of the 32-byte key that encrypts secrets at rest; default: generated in <dataDir>/secrets. All replicas must share it. */
      masterKey: nonEmpty.optional(),
    })
    .prefault({}),
  imports: z
    .strictObject({
      /** How often streams with `importPolicy.scheduled` are re-checked against their remote registry. */
      intervalMinutes: z.number().positive().default(15),
    })
    .prefault({}),
  registry: z
    .strictObject({
      /** Largest manifest accepted on push, in bytes. */
      maxManifestBytes: z.int().min(1).default(4 * 1024 * 1024),
      /** Upload sessions idle longer than this are abandoned and their bytes collected. */
      uploadExpiryHours: z.number().positive().default(24),
      /** Largest page of `/v2/_catalog`; larger `n` is clamped. */
      maxCatalogPage: z.int().min(1).default(1000),
      /** Largest page of `/v2/<name>/tags/list`; larger `n` is clamped. */
      maxTagsPage: z.int().min(1).default(1000),
    })
    .prefault({}),
});

/** The config file's input: what YAML, environment and flags may set. */
export type ConfigInput = z.input<typeof configFileSchema>;

/** Resolves a path against `cwd` unless it is absolute. */
function absolute(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** `sqlite:` URLs with a relative path are resolved like every other path; other URLs are left alone. */
function resolveDatabaseUrl(url: string, cwd: string): string {
  const sqlite = /^sqlite:(.+)$/.exec(url);
  if (sqlite === null || sqlite[1] === undefined || sqlite[1] === ':memory:') return url;
  return `sqlite:${absolute(sqlite[1], cwd)}`;
}

/**
 * The full schema: {@link configFileSchema} followed by resolution of paths
 * against `cwd` and the settings derived from `dataDir`. Its output is
 * {@link BerthConfig}, in which every path is absolute and nothing derived is
 * missing.
 */
export function createConfigSchema(cwd: string) {
  return configFileSchema.transform((config) => {
    const dataDir = absolute(config.dataDir, cwd);
    const { certFile, keyFile } = config.tls;
    return {
      ...config,
      dataDir,
      tls: {
        enabled: config.tls.enabled,
        hostnames: config.tls.hostnames,
        ...(certFile === undefined ? {} : { certFile: absolute(certFile, cwd) }),
        ...(keyFile === undefined ? {} : { keyFile: absolute(keyFile, cwd) }),
      } as { enabled: boolean; hostnames: string[]; certFile?: string; keyFile?: string },
      storage: {
        driver: config.storage.driver,
        filesystem: { root: absolute(config.storage.filesystem.root ?? join(dataDir, 'blobs'), cwd) },
      },
      database: { url: resolveDatabaseUrl(config.database.url ?? `sqlite:${join(dataDir, 'berth.db')}`, cwd) },
    };
  });
}

/** The validated configuration every part of Berth receives: defaults applied, paths absolute, derived settings filled in. */
export type BerthConfig = z.infer<ReturnType<typeof createConfigSchema>>;

/** Every property optional, recursively; arrays are replaced whole, not merged. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
