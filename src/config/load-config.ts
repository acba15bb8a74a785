import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, configFileSchema, createConfigSchema } from './schema.ts';
import type { BerthConfig, DeepPartial } from './schema.ts';

export { ConfigError, parseListen } from './schema.ts';
export type { BerthConfig, DeepPartial } from './schema.ts';

/** Prefix of every configuration variable. */
const PREFIX = 'BERTH_';

/**
 * `BERTH_*` variables that are not settings and that other parts of Berth read.
 * `BERTH_CONFIG` names the config file when no file is given explicitly.
 */
// BERTH_CONFIG_DIR is the CLI's client configuration, which a shell running both may well have set.
const NON_SETTING_VARIABLES: readonly (string | RegExp)[] = ['BERTH_CONFIG', 'BERTH_CONFIG_DIR', 'BERTH_ADMIN_PASSWORD', /^BERTH_TEST_/, /^BERTH_E2E_/];

/** How a variable's text becomes the value of its setting. */
export type SettingKind = 'string' | 'number' | 'boolean' | 'enum' | 'string-list';

/** One leaf of the configuration schema and the environment variable that sets it. */
export interface ConfigSetting {
  /** Path of the setting in the config file, e.g. `['registry', 'maxManifestBytes']`. */
  path: readonly string[];
  /** The environment variable, e.g. `BERTH_REGISTRY__MAX_MANIFEST_BYTES`. */
  variable: string;
  /** How the variable's text is coerced: booleans `true/false/1/0`, numbers, string lists comma-separated. */
  kind: SettingKind;
  /** The allowed values of an `enum` setting. */
  values?: readonly string[];
}

/** `maxManifestBytes` → `MAX_MANIFEST_BYTES`. */
function upperSnake(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Looks through wrappers that do not change what a leaf holds (defaults, optional, refinement pipes). */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodOptional) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodNullable || current instanceof z.ZodReadonly) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
}

function collectSettings(schema: z.ZodType, path: readonly string[], into: ConfigSetting[]): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
      collectSettings(child, [...path, key], into);
    }
    return;
  }
  const variable = PREFIX + path.map(upperSnake).join('__');
  if (inner instanceof z.ZodString) into.push({ path, variable, kind: 'string' });
  else if (inner instanceof z.ZodNumber) into.push({ path, variable, kind: 'number' });
  else if (inner instanceof z.ZodBoolean) into.push({ path, variable, kind: 'boolean' });
  else if (inner instanceof z.ZodEnum) into.push({ path, variable, kind: 'enum', values: inner.options.map(String) });
  else if (inner instanceof z.ZodArray && unwrap(inner.element as z.ZodType) instanceof z.ZodString) {
    into.push({ path, variable, kind: 'string-list' });
  } else {
    // A programming error caught by the tests: a new leaf type needs a coercion rule here.
    throw new ConfigError([`${path.join('.')}: no environment coercion for this kind of setting`]);
  }
}

let settingsCache: readonly ConfigSetting[] | undefined;

/** Every setting of the config schema with its environment variable, in schema order. */
export function configSettings(): readonly ConfigSetting[] {
  if (settingsCache === undefined) {
    const settings: ConfigSetting[] = [];
    collectSettings(configFileSchema, [], settings);
    settingsCache = settings;
  }
  return settingsCache;
}

/** The names of all configuration environment variables (`BERTH_LISTEN`, `BERTH_TLS__ENABLED`, …), derived from the schema. */
export function configEnvironmentVariables(): string[] {
  return configSettings().map((setting) => setting.variable);
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** YAML config file. Defaults to `$BERTH_CONFIG` when that is set; otherwise no file is read. */
  file?: string;
  /** Environment to read `BERTH_*` variables from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Values that beat every other source (the CLI's flags); `undefined` members are ignored. */
  overrides?: DeepPartial<BerthConfig>;
  /** Directory relative paths are resolved against; defaults to `process.cwd()`. */
  cwd?: string;
}

type Tree = Record<string, unknown>;

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Copies `source` onto `target` recursively (arrays replace, `undefined`
 * skipped) and records, for each value copied, which source set it.
 */
function mergeInto(target: Tree, source: Tree, origin: string, origins: Map<string, string>, path: readonly string[] = []): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const childPath = [...path, key];
    const existing = target[key];
    // Sections get an origin too, so that an unknown section (`storag: {}`) can be traced to its source.
    origins.set(childPath.join('.'), origin);
    if (isPlainObject(value) && (isPlainObject(existing) || existing === undefined)) {
      const child: Tree = isPlainObject(existing) ? existing : {};
      target[key] = child;
      mergeInto(child, value, origin, origins, childPath);
    } else {
      target[key] = value;
    }
  }
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Tree = {};
      node[segment] = created;
      node = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** Reads and parses the YAML file into a mapping. */
async function readConfigFile(file: string): Promise<Tree> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`${file}: cannot read config file: ${reason}`], { cause: error });
  }
  // Positions come from a LineCounter so that messages stay one line (prettyErrors appends a source excerpt).
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `${file}:${line}:${col}: ${error.message.split('\n')[0] ?? error.code}`;
      }),
    );
  }
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError([`${file}: expected a mapping of settings at the top level`]);
  return value;
}

const TRUE = new Set(['true', '1']);
const FALSE = new Set(['false', '0']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Coerces a variable's text by its setting's kind; returns a problem line instead when it cannot. */
function coerce(setting: ConfigSetting, text: string): { value: unknown } | { problem: string } {
  const got = `got ${JSON.stringify(text)}`;
  switch (setting.kind) {
    case 'string':
    case 'enum':
      // Enum membership is checked by the schema, which names the allowed values.
      return { value: text };
    case 'boolean': {
      const lowered = text.trim().toLowerCase();
      if (TRUE.has(lowered)) return { value: true };
      if (FALSE.has(lowered)) return { value: false };
      return { problem: `${setting.variable}: expected true, false, 1 or 0, ${got}` };
    }
    case 'number':
      if (!NUMBER.test(text.trim())) return { problem: `${setting.variable}: expected a number, ${got}` };
      return { value: Number(text.trim()) };
    case 'string-list':
      return {
        value: text
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      };
  }
}

/** Levenshtein distance, for "did you mean" hints on typos. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function suggestion(name: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Only near misses: a suggestion for an unrelated name is noise.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : '';
}

/** Reads the `BERTH_*` settings of `env` into a tree; unknown and malformed variables become problems. */
function readEnvironment(env: NodeJS.ProcessEnv, origins: Map<string, string>, problems: string[]): Tree {
  const byVariable = new Map(configSettings().map((setting) => [setting.variable, setting]));
  const tree: Tree = {};
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || text === undefined) continue;
    const setting = byVariable.get(name);
    if (setting === undefined) {
      if (NON_SETTING_VARIABLES.some((allowed) => (typeof allowed === 'string' ? allowed === name : allowed.test(name)))) {
        continue;
      }
      problems.push(`${name}: unknown setting${suggestion(name, [...byVariable.keys()])}`);
      continue;
    }
    // An empty variable is "not set" (the usual shell idiom `BERTH_X= cmd`), except that an empty list is a real value.
    if (text === '' && setting.kind !== 'string-list') continue;
    const coerced = coerce(setting, text);
    if ('problem' in coerced) {
      problems.push(coerced.problem);
      continue;
    }
    setPath(tree, setting.path, coerced.value);
    origins.set(setting.path.join('.'), `from ${name}`);
  }
  return tree;
}

/** The keys a strict object at `path` accepts, for suggestions. */
function keysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = configFileSchema;
  for (const segment of path) {
    const inner = unwrap(schema);
    if (!(inner instanceof z.ZodObject)) return [];
    const child = (inner.shape as Record<string, z.ZodType | undefined>)[String(segment)];
    if (child === undefined) return [];
    schema = child;
  }
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return `${typeof input} ${JSON.stringify(input)}`;
}

/** One line per problem: `path: what was expected`, plus where a wrong value came from. */
function formatIssues(issues: readonly z.core.$ZodIssue[], origins: ReadonlyMap<string, string>): string[] {
  const originOf = (path: readonly PropertyKey[]): string => {
    for (let length = path.length; length > 0; length--) {
      const origin = origins.get(path.slice(0, length).join('.'));
      if (origin !== undefined) return ` (${origin})`;
    }
    return '';
  };
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    const name = path.length === 0 ? '(top level)' : path.join('.');
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const keyPath = [...path, key];
          lines.push(`${keyPath.join('.')}: unknown setting${suggestion(key, keysAt(path))}${originOf(keyPath)}`);
        }
        continue;
      case 'invalid_type': {
        const expected = issue.expected === 'int' ? 'an integer' : issue.expected === 'object' ? 'a mapping' : issue.expected;
        lines.push(`${name}: expected ${expected}, got ${describeInput(issue.input)}${originOf(issue.path)}`);
        continue;
      }
      case 'invalid_value':
        lines.push(`${name}: expected one of ${issue.values.map(String).join(', ')}, got ${describeInput(issue.input)}${originOf(issue.path)}`);
        continue;
      case 'too_small': {
        const bound = issue.origin === 'string' ? 'a non-empty string' : `a number ${issue.inclusive === true ? '>=' : '>'} ${issue.minimum}`;
        lines.push(`${name}: expected ${bound}, got ${describeInput(issue.input)}${originOf(issue.path)}`);
        continue;
      }
      case 'too_big':
        lines.push(`${name}: expected at most ${issue.maximum}, got ${describeInput(issue.input)}${originOf(issue.path)}`);
        continue;
      default: {
        // Refinements see the whole value; quoting it helps only when it is a scalar (not the tls section, say).
        const scalar = ['string', 'number', 'boolean'].includes(typeof issue.input);
        lines.push(`${name}: ${issue.message}${scalar ? `, got ${describeInput(issue.input)}` : ''}${originOf(issue.path)}`);
      }
    }
  }
  return lines;
}

/**
 * Loads Berth's configuration: schema defaults, then the YAML file, then
 * `BERTH_*` environment variables, then `overrides` (CLI flags), each
 * beating the one before, validated as a whole.
 *
 * Paths are resolved against `cwd` (default: the working directory), the
 * storage root defaults to `<dataDir>/blobs` and the database to
 * `sqlite:<dataDir>/berth.db`, whichever source set `dataDir`.
 *
 * @throws ConfigError listing every problem found, one line each: an
 *   unreadable or malformed file, unknown keys in the file or overrides, an
 *   unknown `BERTH_*` variable (except `BERTH_CONFIG`, `BERTH_ADMIN_PASSWORD`
 *   and `BERTH_TEST_*`), and values that fail validation.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<BerthConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fileOption = options.file ?? (env['BERTH_CONFIG'] === '' ? undefined : env['BERTH_CONFIG']);
  const file = fileOption === undefined ? undefined : resolve(cwd, fileOption);

  const origins = new Map<string, string>();
  const problems: string[] = [];
  const merged: Tree = {};
  if (file !== undefined) mergeInto(merged, await readConfigFile(file), `in ${file}`, origins);
  mergeInto(merged, readEnvironment(env, origins, problems), 'from the environment', new Map());
  if (options.overrides !== undefined) mergeInto(merged, options.overrides as Tree, 'from the command line', origins);

  const result = createConfigSchema(cwd).safeParse(merged, { reportInput: true });
  if (!result.success) problems.push(...formatIssues(result.error.issues, origins));
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}
