/**
 * Service accounts (robot accounts for CI) and their tokens:
 * `create serviceaccount`, `create token serviceaccount`, `get serviceaccounts`,
 * `get tokens`, `delete serviceaccount`, `delete token`.
 */
import type { Command } from 'commander';
import { apiPath } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { formatAge, formatList, formatObject, outputOption } from './output.ts';
import type { Column, OutputFormat } from './output.ts';
import { anyBody, serviceAccountSchema, serviceAccountTokenSchema } from './resources.ts';
import type { ServiceAccount, ServiceAccountToken } from './resources.ts';
import type { BerthApi } from './api-client.ts';
import { checkName, commandGroup, namespaceOption, note, print, projectOf, withSession } from './session.ts';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A duration like Go's and oc's `--duration`: `90s`, `30m`, `24h`, `1h30m`,
 * plus `d` for days. Whole seconds, at least one.
 *
 * @throws CliError('usage')
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (!/^(\d+[smhd])+$/.test(trimmed)) throw new CliError('usage', `invalid duration "${text}": use e.g. 90s, 30m, 24h, 1h30m or 7d`);
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) seconds += Number(amount) * (UNIT_SECONDS[unit ?? 's'] ?? 1);
  if (seconds < 1) throw new CliError('usage', `invalid duration "${text}": it must be at least 1s`);
  if (!Number.isSafeInteger(seconds)) throw new CliError('usage', `invalid duration "${text}": too long`);
  return seconds;
}

export const SERVICE_ACCOUNT_COLUMNS: readonly Column<ServiceAccount>[] = [
  { header: 'name', value: (a) => a.metadata.name },
  { header: 'username', value: (a) => a.status?.username ?? '' },
  { header: 'age', value: (a) => formatAge(a.metadata.creationTimestamp) },
];

export const TOKEN_COLUMNS: readonly Column<ServiceAccountToken>[] = [
  { header: 'id', value: (t) => t.metadata.name },
  { header: 'service account', value: (t) => t.spec?.serviceAccountName ?? '' },
  { header: 'expires', value: (t) => t.spec?.expirationTimestamp ?? 'never' },
  { header: 'revoked', value: (t) => (t.status?.revoked === true ? 'yes' : 'no') },
  { header: 'last used', value: (t) => t.status?.lastUsedTimestamp ?? 'never', wide: true },
  { header: 'age', value: (t) => formatAge(t.metadata.creationTimestamp) },
];

function accountPath(project: string, ...rest: string[]): string {
  return apiPath('namespaces', project, 'serviceaccounts', ...rest);
}

/**
 * The id of the account's one live (not revoked, not expired) token, for `--rotate` without an id.
 * @throws CliError('usage') when it has none or several.
 */
async function onlyLiveToken(api: BerthApi, project: string, account: string): Promise<string> {
  const now = Date.now();
  const live = (await api.list(accountPath(project, account, 'tokens'), serviceAccountTokenSchema)).items.filter((t) => {
    const expires = t.spec?.expirationTimestamp;
    return t.status?.revoked !== true && (expires === undefined || expires === null || Date.parse(expires) > now);
  });
  const [only] = live;
  if (only === undefined) throw new CliError('usage', `serviceaccount "${account}" has no live token to rotate: create one without --rotate`);
  if (live.length > 1) {
    throw new CliError('usage', `serviceaccount "${account}" has ${live.length} live tokens: name the one to rotate, --rotate ID (see \`berth get tokens ${account}\`)`);
  }
  return only.metadata.name;
}

export function registerServiceAccountCommands(program: Command): void {
  const create = commandGroup(program, 'create', 'create a resource');
  create
    .command('serviceaccount')
    .aliases(['sa'])
    .description('create a service account in a project')
    .argument('<name>', 'service account name')
    .addOption(namespaceOption())
    .action(async (name: string, flags: { namespace?: string }) => {
      checkName('serviceaccounts', name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const body = { apiVersion: 'berth.dev/v1', kind: 'ServiceAccount', metadata: { name } };
        const account = await api.json('POST', accountPath(project), serviceAccountSchema, { body });
        print(`serviceaccount "${account.metadata.name}" created in project "${project}" (${account.status?.username ?? `system:serviceaccount:${project}:${name}`})`);
      });
    });

  commandGroup(create, 'token', 'create a token')
    .command('serviceaccount')
    .aliases(['sa'])
    .description('create a token for a service account and print its secret (shown only this once); --rotate replaces an existing one')
    .argument('<name>', 'service account name')
    .addOption(namespaceOption())
    .option('--duration <duration>', 'lifetime, e.g. 24h or 30d (default: no expiry; with --rotate: that of the old token)')
    .option('--rotate [id]', 'revoke this token (default: the only live one) and create its successor, in one step')
    .action(async (name: string, flags: { namespace?: string; duration?: string; rotate?: string | true }) => {
      checkName('serviceaccounts', name);
      const seconds = flags.duration === undefined ? undefined : parseDuration(flags.duration);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const body = { apiVersion: 'berth.dev/v1', kind: 'ServiceAccountToken', spec: seconds === undefined ? {} : { expirationSeconds: seconds } };
        let token: ServiceAccountToken;
        if (flags.rotate === undefined) {
          token = await api.json('POST', accountPath(project, name, 'tokens'), serviceAccountTokenSchema, { body });
        } else {
          const id = flags.rotate === true ? await onlyLiveToken(api, project, name) : flags.rotate;
          token = await api.json('POST', accountPath(project, name, 'tokens', id, 'rotate'), serviceAccountTokenSchema, { body });
          note(`token "${id}" of serviceaccount "${name}" revoked; its successor is "${token.metadata.name}"`);
        }
        const secret = token.status?.token;
        if (secret === undefined || secret === null || secret === '') throw new CliError('protocol', 'the server created the token but sent no status.token');
        // Only the secret on stdout, so that `TOKEN=$(berth create token sa ci)` works.
        print(secret);
      });
    });

  const get = commandGroup(program, 'get', 'list or show resources');
  get
    .command('serviceaccounts')
    .aliases(['serviceaccount', 'sa'])
    .description("list a project's service accounts")
    .argument('[name]', 'show only this one')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: { namespace?: string; output?: OutputFormat }) => {
      if (name !== undefined) checkName('serviceaccounts', name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        if (name !== undefined) {
          print(formatObject(flags.output, SERVICE_ACCOUNT_COLUMNS, await api.json('GET', accountPath(project, name), serviceAccountSchema)));
          return;
        }
        const list = await api.list(accountPath(project), serviceAccountSchema);
        const text = formatList(flags.output, 'ServiceAccountList', SERVICE_ACCOUNT_COLUMNS, list.items);
        if (text === '') note(`No service accounts found in project ${project}.`);
        print(text);
      });
    });
  get
    .command('tokens')
    .aliases(['token'])
    .description("list a service account's tokens (never their secrets)")
    .argument('<serviceaccount>', 'service account name')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string, flags: { namespace?: string; output?: OutputFormat }) => {
      checkName('serviceaccounts', name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const list = await api.list(accountPath(project, name, 'tokens'), serviceAccountTokenSchema);
        const text = formatList(flags.output, 'ServiceAccountTokenList', TOKEN_COLUMNS, list.items);
        if (text === '') note(`Service account ${name} has no tokens.`);
        print(text);
      });
    });

  const remove = commandGroup(program, 'delete', 'delete a resource');
  remove
    .command('serviceaccount')
    .aliases(['sa'])
    .description('delete a service account and its tokens')
    .argument('<name>', 'service account name')
    .addOption(namespaceOption())
    .action(async (name: string, flags: { namespace?: string }) => {
      checkName('serviceaccounts', name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        await api.json('DELETE', accountPath(project, name), anyBody);
        print(`serviceaccount "${name}" deleted from project "${project}"`);
      });
    });
  remove
    .command('token')
    .description("revoke one of a service account's tokens (see `berth get tokens`)")
    .argument('<serviceaccount>', 'service account name')
    .argument('<id>', 'token id')
    .addOption(namespaceOption())
    .action(async (name: string, id: string, flags: { namespace?: string }) => {
      checkName('serviceaccounts', name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        await api.json('DELETE', accountPath(project, name, 'tokens', id), anyBody);
        print(`token "${id}" of serviceaccount "${name}" revoked`);
      });
    });
}
