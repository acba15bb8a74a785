/**
 * What every client command starts from: the config, the current server, an
 * API client for it, and the project to act in. Also the shared pieces of
 * the command line (`-n`, command groups such as `get` and `create`).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { nameProblem } from '../authz/access-names.ts';
import type { NamedKind } from '../authz/access-names.ts';
import { BerthApi } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { ConfigStore, currentServer } from './client-config.ts';
import type { ClientConfig, ServerEntry } from './client-config.ts';

export interface Session {
  readonly store: ConfigStore;
  readonly config: ClientConfig;
  readonly api: BerthApi;
  /** The server entry as loaded (the api's entry has the current tokens). */
  readonly entry: ServerEntry;
}

/**
 * Runs `body` with a session on the current server, and closes the HTTP
 * client afterwards (its keep-alive sockets would hold the process open).
 *
 * @throws CliError('not-configured') when no server is selected.
 */
export async function withSession<T>(body: (session: Session) => Promise<T>): Promise<T> {
  const store = new ConfigStore();
  const config = await store.load();
  const entry = currentServer(config);
  const api = await BerthApi.open(store, entry);
  try {
    return await body({ store, config, api, entry });
  } finally {
    await api.close();
  }
}

/**
 * The project a command acts in: `-n`, else the current project.
 *
 * @throws CliError('not-configured') when neither is set.
 */
export function projectOf(namespace: string | undefined, entry: ServerEntry): string {
  const project = namespace ?? entry.project;
  if (project === undefined || project === '') {
    throw new CliError('not-configured', 'no project selected: pass -n PROJECT or choose one with `berth project NAME`');
  }
  return project;
}

export function namespaceOption(): Option {
  return new Option('-n, --namespace <project>', 'the project (default: the current project)');
}

/**
 * Gives every runnable command that has no `-n` of its own one that is
 * accepted and ignored, as `oc` does: scripts pass `-n P` to everything,
 * and commands that are not about one project (`whoami`, `adm users list`,
 * `projects`) must not fail on it. Call once, after every command is
 * registered.
 */
export function acceptNamespaceEverywhere(program: Command): void {
  for (const command of program.commands) {
    acceptNamespaceEverywhere(command);
    if (command.commands.length > 0) continue;
    if (command.options.some((o) => o.short === '-n' || o.long === '--namespace')) continue;
    command.addOption(new Option('-n, --namespace <project>', 'accepted for uniformity; this command is not about one project').hideHelp());
  }
}

/**
 * The group command `name` under `parent` (`get`, `create`, `delete`, …),
 * created on first use, so that commands from several files can share one
 * `berth get` without knowing about each other.
 */
export function commandGroup(parent: Command, name: string, description: string): Command {
  const existing = parent.commands.find((c) => c.name() === name);
  if (existing !== undefined) return existing;
  return parent.command(name).description(description);
}

/** Writes command output to stdout (all output goes through here, for one place to change). */
export function print(text: string): void {
  if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A note for humans on stderr (kubectl's "No resources found"). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * Checks a name before any request, with the server's own rules (one
 * source), so a typo fails without a login or a round trip.
 *
 * @throws CliError('usage')
 */
export function checkName(kind: NamedKind, name: string): void {
  const problem = nameProblem(kind, name);
  if (problem !== undefined) throw new CliError('usage', problem);
}
