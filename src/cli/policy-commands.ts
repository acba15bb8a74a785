/**
 * `berth policy …`, `get rolebindings`, `get clusterrolebindings` and
 * `who-can`: who holds which role in a project (or registry-wide).
 *
 * A user argument of the form `system:serviceaccount:P:NAME` (or `-z NAME`
 * for the project's own account) names a ServiceAccount subject, as in oc.
 */
import type { Command } from 'commander';
import { REGISTRY_VERBS } from '../authz/authorizer.ts';
import type { RegistryVerb } from '../authz/authorizer.ts';
import { CLUSTER_ROLES, isRoleName, parseServiceAccountName, PROJECT_ROLES, ROLE_NAMES, serviceAccountPrincipalName, serviceAccountSubjectName } from '../authz/roles.ts';
import { apiPath } from './api-client.ts';
import type { BerthApi } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { formatJson, formatList, formatObject, formatYaml, joinNames, outputOption } from './output.ts';
import type { Column, OutputFormat } from './output.ts';
import { anyBody, roleBindingSchema, whoCanSchema } from './resources.ts';
import type { RoleBinding, WhoCan } from './resources.ts';
import { checkName, commandGroup, namespaceOption, note, print, projectOf, withSession } from './session.ts';

/** A subject as the API takes it in `POST …/subjects`. */
export type SubjectArg =
  | { readonly kind: 'User' | 'Group'; readonly name: string }
  | { readonly kind: 'ServiceAccount'; readonly name: string; readonly namespace: string };

/**
 * The subject for a user argument: `system:serviceaccount:P:NAME` is a
 * service account, anything else a user.
 *
 * @throws CliError('usage') for an invalid user name.
 */
export function userSubject(arg: string): SubjectArg {
  if (arg.startsWith('system:serviceaccount:')) {
    const sa = parseServiceAccountName(arg);
    if (sa === undefined) throw new CliError('usage', `invalid service account "${arg}": use system:serviceaccount:PROJECT:NAME`);
    checkName('projects', sa.project);
    checkName('serviceaccounts', sa.name);
    return { kind: 'ServiceAccount', name: sa.name, namespace: sa.project };
  }
  checkName('users', arg);
  return { kind: 'User', name: arg };
}

/** How a subject is named in output: users and groups by name, accounts as `system:serviceaccount:P:NAME`. */
export function subjectLabel(subject: SubjectArg): string {
  return subject.kind === 'ServiceAccount' ? serviceAccountPrincipalName(subject.namespace, subject.name) : subject.name;
}

/**
 * The `{kind}/{name}` path segments of a subject in
 * `DELETE …/subjects/{kind}/{name}`: a service account is named in the
 * binding form `<project>:<name>` (src/authz/roles.ts), since the path has
 * no room for its namespace.
 */
export function subjectPathSegments(subject: SubjectArg): [string, string] {
  return [subject.kind, subject.kind === 'ServiceAccount' ? serviceAccountSubjectName(subject.namespace, subject.name) : subject.name];
}

function checkRole(role: string, scope: 'project' | 'cluster'): void {
  if (!isRoleName(role)) throw new CliError('usage', `unknown role "${role}": one of ${ROLE_NAMES.join(', ')}`);
  // Project bindings take the project roles, cluster bindings only cluster-admin (docs/api.md).
  if (scope === 'project' && !Object.hasOwn(PROJECT_ROLES, role)) {
    throw new CliError('usage', `role "${role}" is registry-wide: use \`berth policy add-cluster-role-to-user\` or \`add-cluster-role-to-group\``);
  }
  if (scope === 'cluster' && !Object.hasOwn(CLUSTER_ROLES, role)) {
    throw new CliError('usage', `role "${role}" is a project role: use \`berth policy add-role-to-user\` or \`add-role-to-group\` with -n PROJECT`);
  }
}

function checkGroup(name: string): SubjectArg {
  // The virtual groups (system:authenticated, system:unauthenticated) have a ':' that stored groups may not.
  if (!name.startsWith('system:')) checkName('groups', name);
  return { kind: 'Group', name };
}

/** The bindings collection of a project, or the cluster-wide one when `project` is undefined. */
function bindingsPath(project: string | undefined, ...rest: string[]): string {
  return project === undefined ? apiPath('clusterrolebindings', ...rest) : apiPath('namespaces', project, 'rolebindings', ...rest);
}

async function changeBinding(api: BerthApi, action: 'add' | 'remove', project: string | undefined, role: string, subjects: readonly SubjectArg[]): Promise<void> {
  for (const subject of subjects) {
    if (action === 'add') await api.json('POST', bindingsPath(project, role, 'subjects'), anyBody, { body: subject });
    else await api.json('DELETE', bindingsPath(project, role, 'subjects', ...subjectPathSegments(subject)), anyBody);
  }
  const names = subjects.map((s) => `"${subjectLabel(s)}"`).join(', ');
  print(`${project === undefined ? 'cluster role' : 'role'} "${role}" ${action === 'add' ? 'added' : 'removed'}: ${names}`);
}

interface BindingFlags {
  readonly namespace?: string;
  readonly serviceaccount?: string[];
}

function collectServiceAccounts(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerPolicyCommands(program: Command): void {
  const policy = commandGroup(program, 'policy', 'manage who holds which role');

  for (const action of ['add', 'remove'] as const) {
    const verb = action === 'add' ? 'add-role-to' : 'remove-role-from';
    policy
      .command(`${verb}-user`)
      .description(`${action === 'add' ? 'give' : 'take'} a project role ${action === 'add' ? 'to' : 'from'} users or service accounts (system:serviceaccount:P:NAME)`)
      .argument('<role>', `one of ${Object.keys(PROJECT_ROLES).join(', ')}`)
      .argument('[users...]', 'user names, or system:serviceaccount:PROJECT:NAME')
      .addOption(namespaceOption())
      .option('-z, --serviceaccount <name>', 'a service account of the project (repeatable)', collectServiceAccounts)
      .action(async (role: string, users: string[], flags: BindingFlags) => {
        checkRole(role, 'project');
        const subjects = users.map(userSubject);
        await withSession(async ({ api, entry }) => {
          const project = projectOf(flags.namespace, entry);
          for (const name of flags.serviceaccount ?? []) {
            checkName('serviceaccounts', name);
            subjects.push({ kind: 'ServiceAccount', name, namespace: project });
          }
          if (subjects.length === 0) throw new CliError('usage', 'name at least one user (or -z SERVICEACCOUNT)');
          await changeBinding(api, action, project, role, subjects);
        });
      });

    policy
      .command(`${verb}-group`)
      .description(`${action === 'add' ? 'give' : 'take'} a project role ${action === 'add' ? 'to' : 'from'} groups (system:unauthenticated for anonymous access)`)
      .argument('<role>', `one of ${Object.keys(PROJECT_ROLES).join(', ')}`)
      .argument('<groups...>', 'group names')
      .addOption(namespaceOption())
      .action(async (role: string, groups: string[], flags: BindingFlags) => {
        checkRole(role, 'project');
        const subjects = groups.map(checkGroup);
        await withSession(async ({ api, entry }) => {
          await changeBinding(api, action, projectOf(flags.namespace, entry), role, subjects);
        });
      });

    const clusterVerb = action === 'add' ? 'add-cluster-role-to' : 'remove-cluster-role-from';
    policy
      .command(`${clusterVerb}-user`)
      .description(`${action === 'add' ? 'give' : 'take'} cluster-admin (every verb in every project) ${action === 'add' ? 'to' : 'from'} users`)
      .argument('<role>', `one of ${Object.keys(CLUSTER_ROLES).join(', ')}`)
      .argument('<users...>', 'user names, or system:serviceaccount:PROJECT:NAME')
      .action(async (role: string, users: string[]) => {
        checkRole(role, 'cluster');
        const subjects = users.map(userSubject);
        await withSession(async ({ api }) => {
          await changeBinding(api, action, undefined, role, subjects);
        });
      });

    policy
      .command(`${clusterVerb}-group`)
      .description(`${action === 'add' ? 'give' : 'take'} cluster-admin (every verb in every project) ${action === 'add' ? 'to' : 'from'} groups`)
      .argument('<role>', `one of ${Object.keys(CLUSTER_ROLES).join(', ')}`)
      .argument('<groups...>', 'group names')
      .action(async (role: string, groups: string[]) => {
        checkRole(role, 'cluster');
        const subjects = groups.map(checkGroup);
        await withSession(async ({ api }) => {
          await changeBinding(api, action, undefined, role, subjects);
        });
      });
  }

  const get = commandGroup(program, 'get', 'list or show resources');
  get
    .command('rolebindings')
    .aliases(['rolebinding'])
    .description("list a project's role bindings (one per role)")
    .argument('[role]', 'show only this role')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (role: string | undefined, flags: { namespace?: string; output?: OutputFormat }) => {
      if (role !== undefined) checkRole(role, 'project');
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        await showBindings(api, project, role, flags.output);
      });
    });
  get
    .command('clusterrolebindings')
    .aliases(['clusterrolebinding'])
    .description('list the registry-wide role bindings')
    .argument('[role]', 'show only this role')
    .addOption(outputOption())
    .action(async (role: string | undefined, flags: { output?: OutputFormat }) => {
      if (role !== undefined) checkRole(role, 'cluster');
      await withSession(async ({ api }) => {
        await showBindings(api, undefined, role, flags.output);
      });
    });

  program
    .command('who-can')
    .description('list who may do VERB in a project')
    .argument('<verb>', `one of ${REGISTRY_VERBS.join(', ')}`)
    .argument('[project]', 'the project (default: -n, else the current project)')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (verb: string, projectArg: string | undefined, flags: { namespace?: string; output?: OutputFormat }) => {
      if (!(REGISTRY_VERBS as readonly string[]).includes(verb)) throw new CliError('usage', `unknown verb "${verb}": one of ${REGISTRY_VERBS.join(', ')}`);
      if (projectArg !== undefined && flags.namespace !== undefined && projectArg !== flags.namespace) {
        throw new CliError('usage', `two projects given: ${projectArg} and -n ${flags.namespace}`);
      }
      await withSession(async ({ api, entry }) => {
        const project = projectOf(projectArg ?? flags.namespace, entry);
        const answer = await api.json('GET', apiPath('namespaces', project, 'whocan'), whoCanSchema, { query: { verb } });
        print(formatWhoCan(flags.output, verb as RegistryVerb, project, answer));
      });
    });
}

function subjectsOf(binding: RoleBinding, kind: string): string[] {
  return (binding.subjects ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' && s.namespace !== undefined && s.namespace !== null ? serviceAccountPrincipalName(s.namespace, s.name) : s.name));
}

export const ROLE_BINDING_COLUMNS: readonly Column<RoleBinding>[] = [
  { header: 'name', value: (b) => b.metadata.name },
  { header: 'role', value: (b) => `${b.roleRef.kind ?? 'ClusterRole'}/${b.roleRef.name}` },
  { header: 'users', value: (b) => joinNames(subjectsOf(b, 'User')) },
  { header: 'groups', value: (b) => joinNames(subjectsOf(b, 'Group')) },
  { header: 'service accounts', value: (b) => joinNames(subjectsOf(b, 'ServiceAccount')), wide: true },
];

async function showBindings(api: BerthApi, project: string | undefined, role: string | undefined, output: OutputFormat | undefined): Promise<void> {
  if (role !== undefined) {
    const binding = await api.json('GET', bindingsPath(project, role), roleBindingSchema);
    print(formatObject(output, ROLE_BINDING_COLUMNS, binding));
    return;
  }
  const list = await api.list(bindingsPath(project), roleBindingSchema);
  const kind = project === undefined ? 'ClusterRoleBindingList' : 'RoleBindingList';
  const text = formatList(output, kind, ROLE_BINDING_COLUMNS, list.items);
  if (text === '') note(project === undefined ? 'No cluster role bindings found.' : `No role bindings found in project ${project}.`);
  print(text);
}

/** Wide enough for "Service accounts:" and two spaces. */
const WHO_CAN_LABEL = 19;

/** oc's who-can layout by default; the WhoCan object as JSON/YAML. */
export function formatWhoCan(output: OutputFormat | undefined, verb: RegistryVerb, project: string, answer: WhoCan): string {
  if (output === 'json') return formatJson(answer);
  if (output === 'yaml') return formatYaml(answer);
  const block = (title: string, names: readonly string[]): string => {
    const label = `${title}:`.padEnd(WHO_CAN_LABEL);
    if (names.length === 0) return `${label}<none>`;
    return names.map((n, i) => `${i === 0 ? label : ' '.repeat(WHO_CAN_LABEL)}${n}`).join('\n');
  };
  return [
    `Namespace: ${project}`,
    `Verb:      ${verb}`,
    '',
    block('Users', answer.users),
    '',
    block('Groups', answer.groups),
    '',
    block('Service accounts', answer.serviceAccounts),
    '',
  ].join('\n');
}
