/**
 * `berth adm users …` and `berth adm groups …`: the administrator's
 * commands for local users and groups (cluster-admin on the server).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Command } from 'commander';
import { HtpasswdError, parseHtpasswd } from '../identity/htpasswd.ts';
import type { HtpasswdEntry } from '../identity/htpasswd.ts';
import { apiPath } from './api-client.ts';
import type { BerthApi } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { formatAge, formatList, joinNames, outputOption } from './output.ts';
import type { Column, OutputFormat } from './output.ts';
import { obtainPassword } from './prompt.ts';
import { anyBody, groupSchema, htpasswdImportSchema, userSchema } from './resources.ts';
import type { Group, User } from './resources.ts';
import { checkName, note, print, withSession } from './session.ts';

export const USER_COLUMNS: readonly Column<User>[] = [
  { header: 'name', value: (u) => u.metadata.name },
  { header: 'groups', value: (u) => joinNames(u.groups) },
  { header: 'disabled', value: (u) => (u.spec?.disabled === true ? 'yes' : 'no') },
  { header: 'password', value: (u) => (u.status?.passwordSet === true ? 'set' : u.status?.passwordSet === false ? 'none' : ''), wide: true },
  { header: 'age', value: (u) => formatAge(u.metadata.creationTimestamp), wide: true },
];

export const GROUP_COLUMNS: readonly Column<Group>[] = [
  { header: 'name', value: (g) => g.metadata.name },
  { header: 'users', value: (g) => joinNames(g.users) },
  { header: 'age', value: (g) => formatAge(g.metadata.creationTimestamp), wide: true },
];

/** PUT changes only the spec fields it sends (docs/api.md), so each command sends just its own. */
async function putUser(api: BerthApi, name: string, spec: { password?: string; disabled?: boolean }): Promise<User> {
  return await api.json('PUT', apiPath('users', name), userSchema, { body: { apiVersion: 'berth.dev/v1', kind: 'User', metadata: { name }, spec } });
}

const signingKeySchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), creationTimestamp: z.string().optional() }),
  spec: z.looseObject({ algorithm: z.string().optional() }).optional(),
  status: z.looseObject({ signing: z.boolean().optional() }).optional(),
});
type SigningKey = z.infer<typeof signingKeySchema>;
const signingKeyListSchema = z.object({ items: z.array(signingKeySchema) });
const signingKeyRotationSchema = z.object({ status: z.object({ signingKey: z.string() }) });
const signingKeyRetirementSchema = z.object({ status: z.looseObject({ signingKey: z.string().optional() }) });

export const SIGNING_KEY_COLUMNS: readonly Column<SigningKey>[] = [
  { header: 'kid', value: (k) => k.metadata.name },
  { header: 'signing', value: (k) => (k.status?.signing === true ? 'yes' : 'no') },
  { header: 'algorithm', value: (k) => k.spec?.algorithm ?? '', wide: true },
  { header: 'age', value: (k) => formatAge(k.metadata.creationTimestamp) },
];

export function registerAdmCommands(program: Command): void {
  const adm = program.command('adm').description('administer the registry (users, groups, signing keys: cluster-admin; prune: registry-admin of the project)');
  const users = adm.command('users').description('local users');

  users
    .command('list')
    .description('list users')
    .addOption(outputOption())
    .action(async (flags: { output?: OutputFormat }) => {
      await withSession(async ({ api }) => {
        const list = await api.list(apiPath('users'), userSchema);
        const text = formatList(flags.output, 'UserList', USER_COLUMNS, list.items);
        if (text === '') note('No users found.');
        print(text);
      });
    });

  users
    .command('create')
    .description('create a user with a password')
    .argument('<name>', 'user name')
    .option('--password <password>', 'the password; "-" reads it from standard input (prompted when missing)')
    .action(async (name: string, flags: { password?: string }) => {
      checkName('users', name);
      const password = await obtainPassword(flags.password, '--password', `Password for ${name}: `, true);
      await withSession(async ({ api }) => {
        await api.json('POST', apiPath('users'), userSchema, { body: { apiVersion: 'berth.dev/v1', kind: 'User', metadata: { name }, spec: { password } } });
        print(`user "${name}" created`);
      });
    });

  users
    .command('delete')
    .description('delete a user (and its role bindings and group memberships)')
    .argument('<name>', 'user name')
    .action(async (name: string) => {
      checkName('users', name);
      await withSession(async ({ api }) => {
        await api.json('DELETE', apiPath('users', name), anyBody);
        print(`user "${name}" deleted`);
      });
    });

  for (const [command, disabled] of [['disable', true], ['enable', false]] as const) {
    users
      .command(command)
      .description(disabled ? 'stop a user from logging in (existing tokens stop working)' : 'let a disabled user log in again')
      .argument('<name>', 'user name')
      .action(async (name: string) => {
        checkName('users', name);
        await withSession(async ({ api }) => {
          await putUser(api, name, { disabled });
          print(`user "${name}" ${disabled ? 'disabled' : 'enabled'}`);
        });
      });
  }

  users
    .command('set-password')
    .description("set a user's password")
    .argument('<name>', 'user name')
    .option('--password <password>', 'the new password; "-" reads it from standard input (prompted when missing)')
    .action(async (name: string, flags: { password?: string }) => {
      checkName('users', name);
      const password = await obtainPassword(flags.password, '--password', `New password for ${name}: `, true);
      await withSession(async ({ api }) => {
        await putUser(api, name, { password });
        print(`password of user "${name}" set`);
      });
    });

  users
    .command('import')
    .description('import users from a file')
    .command('htpasswd')
    .description('create or update users from an htpasswd file (bcrypt entries only: htpasswd -B)')
    .argument('<file>', 'htpasswd file')
    .action(async (file: string) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new CliError('file', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      let entries: HtpasswdEntry[];
      try {
        // The same parser the server uses: a file it would refuse is refused here, naming every bad line, before logging in.
        entries = parseHtpasswd(text, file);
      } catch (error) {
        if (error instanceof HtpasswdError) throw new CliError('usage', error.message);
        throw error;
      }
      if (entries.length === 0) throw new CliError('usage', `${file} has no users`);
      await withSession(async ({ api }) => {
        // One request with the whole file: the server imports it in one transaction, all or nothing.
        const result = await api.json('POST', apiPath('htpasswdimports'), htpasswdImportSchema, {
          body: { apiVersion: 'berth.dev/v1', kind: 'HtpasswdImport', spec: { htpasswd: text } },
        });
        const { created, updated, unchanged } = result.status;
        print(`imported ${entries.length} users from ${file}: ${created} created, ${updated} updated, ${unchanged} unchanged`);
      });
    });

  const signingKeys = adm.command('signing-keys').description('the keys that sign registry tokens');
  signingKeys
    .command('list')
    .description('list the keys that verify registry tokens (the newest signs)')
    .addOption(outputOption())
    .action(async (flags: { output?: OutputFormat }) => {
      await withSession(async ({ api }) => {
        const list = await api.json('GET', apiPath('signingkeys'), signingKeyListSchema);
        print(formatList(flags.output, 'SigningKeyList', SIGNING_KEY_COLUMNS, list.items));
      });
    });
  signingKeys
    .command('rotate')
    .description('make a new signing key; tokens signed by the old ones stay valid until they expire')
    .action(async () => {
      await withSession(async ({ api }) => {
        const rotation = await api.json('POST', apiPath('signingkeys', 'rotate'), signingKeyRotationSchema, { body: {} });
        print(`signing key ${rotation.status.signingKey} now signs registry tokens`);
      });
    });
  signingKeys
    .command('retire')
    .description('retire a key at once: it leaves the JWKS and tokens it signed are refused from now on (the only active key cannot be retired)')
    .argument('<kid>', 'the key id (see `berth adm signing-keys list`)')
    .action(async (kid: string) => {
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(kid)) throw new CliError('usage', `invalid key id "${kid.slice(0, 100)}": key ids are base64url text`);
      await withSession(async ({ api }) => {
        const retirement = await api.json('POST', apiPath('signingkeys', kid, 'retire'), signingKeyRetirementSchema, { body: {} });
        const signing = retirement.status.signingKey;
        print(`signing key ${kid} retired: tokens it signed are refused from now on${signing === undefined ? '' : `; ${signing} signs`}`);
      });
    });

  const groups = adm.command('groups').description('groups of users');
  groups
    .command('list')
    .description('list groups')
    .addOption(outputOption())
    .action(async (flags: { output?: OutputFormat }) => {
      await withSession(async ({ api }) => {
        const list = await api.list(apiPath('groups'), groupSchema);
        const text = formatList(flags.output, 'GroupList', GROUP_COLUMNS, list.items);
        if (text === '') note('No groups found.');
        print(text);
      });
    });
  groups
    .command('create')
    .aliases(['new'])
    .description('create a group, optionally with members')
    .argument('<group>', 'group name')
    .argument('[users...]', 'initial members')
    .action(async (group: string, members: string[]) => {
      checkName('groups', group);
      for (const user of members) checkName('users', user);
      await withSession(async ({ api }) => {
        await api.json('POST', apiPath('groups'), groupSchema, { body: { apiVersion: 'berth.dev/v1', kind: 'Group', metadata: { name: group } } });
        for (const user of members) await api.json('POST', apiPath('groups', group, 'members'), anyBody, { body: { name: user } });
        print(`group "${group}" created${members.length === 0 ? '' : ` with ${members.map((u) => `"${u}"`).join(', ')}`}`);
      });
    });
  groups
    .command('delete')
    .description('delete a group (and its role bindings)')
    .argument('<group>', 'group name')
    .action(async (group: string) => {
      checkName('groups', group);
      await withSession(async ({ api }) => {
        await api.json('DELETE', apiPath('groups', group), anyBody);
        print(`group "${group}" deleted`);
      });
    });
  for (const [command, add] of [['add-users', true], ['remove-users', false]] as const) {
    groups
      .command(command)
      .description(add ? 'add users to a group' : 'remove users from a group')
      .argument('<group>', 'group name')
      .argument('<users...>', 'user names')
      .action(async (group: string, members: string[]) => {
        checkName('groups', group);
        for (const user of members) checkName('users', user);
        await withSession(async ({ api }) => {
          for (const user of members) {
            if (add) await api.json('POST', apiPath('groups', group, 'members'), anyBody, { body: { name: user } });
            else await api.json('DELETE', apiPath('groups', group, 'members', user), anyBody);
          }
          print(`${add ? 'added' : 'removed'} ${members.map((u) => `"${u}"`).join(', ')} ${add ? 'to' : 'from'} group "${group}"`);
        });
      });
  }
}
