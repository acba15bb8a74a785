/**
 * `berth create -f FILE` and `berth apply -f FILE`: resource documents (JSON
 * or YAML; one object, a List, or several YAML documents) sent to the route
 * of their kind. `create` creates and fails on what exists; `apply` creates
 * what is missing and updates what exists (PUT where the API has one).
 *
 * Kinds (case-insensitive) and what apply does to an existing object:
 * - ImageStream: PUT (spec and annotations; a `resourceVersion` in the
 *   document is a precondition), "unchanged" when its generation and
 *   annotations stay the same;
 * - ImageStreamTag (`metadata.name: NAME:TAG`, `tag.from`): PUT (tag in);
 * - Secret: replaced (deleted and created again: the API has no PUT and never
 *   shows the credentials to compare);
 * - RoleBinding / ClusterRoleBinding (`metadata.name` or `roleRef.name` the
 *   role): create adds the subjects; apply makes the subjects exactly the
 *   listed ones;
 * - Group (`users`): like bindings, with members;
 * - User: PUT of `spec` when the document has one;
 * - Project, ServiceAccount: nothing to update ("unchanged").
 *
 * Namespaced kinds go to `metadata.namespace`, else `-n`, else the current
 * project; a document whose namespace differs from `-n` is refused.
 * Processing goes on after a failed object; the failures end the command in
 * one line (exit 1).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { apiPath } from './api-client.ts';
import type { BerthApi } from './api-client.ts';
import { ApiError, CliError } from './cli-errors.ts';
import type { ServerEntry } from './client-config.ts';
import { checkStreamName, splitStreamTag } from './image-refs.ts';
import { streamPath, streamTagPath } from './imagestream-commands.ts';
import { imageStreamSchema } from './imagestream-resources.ts';
import { formatJson, formatYaml, outputOption } from './output.ts';
import type { OutputFormat } from './output.ts';
import { subjectPathSegments } from './policy-commands.ts';
import type { SubjectArg } from './policy-commands.ts';
import { readResourceDocuments } from './resource-documents.ts';
import type { ResourceDocument } from './resource-documents.ts';
import { anyBody, groupSchema, roleBindingSchema } from './resources.ts';
import { checkSecretName, secretPath } from './secret-commands.ts';
import { checkName, commandGroup, namespaceOption, print, projectOf, withSession } from './session.ts';

export type Mode = 'create' | 'apply';
export type Outcome = 'created' | 'configured' | 'unchanged';

interface Context {
  readonly api: BerthApi;
  /** The project of a namespaced document (resolved lazily: cluster kinds need none). */
  readonly project: () => string;
  readonly mode: Mode;
}

interface KindHandler {
  /** How the kind is named in messages (`imagestream "ruby" created`). */
  readonly label: string;
  readonly namespaced: boolean;
  /** The object's name, checked. @throws CliError('usage') */
  name(body: Record<string, unknown>): string;
  /** Creates or updates; the object as the server answered (or as it now is). */
  run(ctx: Context, name: string, body: Record<string, unknown>): Promise<{ outcome: Outcome; object: unknown }>;
}

const anyObject = z.record(z.string(), z.unknown());

function metadataOf(body: Record<string, unknown>): Record<string, unknown> {
  const md = body['metadata'];
  return typeof md === 'object' && md !== null && !Array.isArray(md) ? (md as Record<string, unknown>) : {};
}

function metadataName(body: Record<string, unknown>, kind: string): string {
  const name = metadataOf(body)['name'];
  if (typeof name !== 'string' || name === '') throw new CliError('usage', `the ${kind} has no metadata.name`);
  return name;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/** GET `path`, or undefined on 404. */
async function getOrUndefined<T>(api: BerthApi, path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    return await api.json('GET', path, schema);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function alreadyExists(label: string, name: string): CliError {
  return new CliError('api', `${label} "${name}" already exists (use \`berth apply -f\` to update it)`);
}

function serverAnnotations(annotations: unknown): string {
  const entries = Object.entries(typeof annotations === 'object' && annotations !== null ? (annotations as Record<string, string>) : {})
    .filter(([k]) => !k.startsWith('image.berth.dev/'))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(entries);
}

/** A subject of a binding document, with a service account's namespace defaulting to `project`. */
function subjectsOf(body: Record<string, unknown>, project: string | undefined): SubjectArg[] {
  const raw = body['subjects'];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new CliError('usage', 'subjects must be a list');
  return raw.map((s: unknown, i) => {
    const subject = typeof s === 'object' && s !== null ? (s as Record<string, unknown>) : {};
    const kind = subject['kind'];
    const name = subject['name'];
    if (typeof name !== 'string' || name === '') throw new CliError('usage', `subjects[${i}] has no name`);
    if (kind === 'User' || kind === 'Group') return { kind, name };
    if (kind === 'ServiceAccount') {
      const namespace = typeof subject['namespace'] === 'string' ? subject['namespace'] : project;
      if (namespace === undefined) throw new CliError('usage', `subjects[${i}]: a service account in a cluster binding needs its namespace`);
      return { kind, name, namespace };
    }
    throw new CliError('usage', `subjects[${i}] has kind ${JSON.stringify(kind)}: use User, Group or ServiceAccount`);
  });
}

function subjectKey(s: { kind: string; name: string; namespace?: string | null | undefined }): string {
  return s.kind === 'ServiceAccount' ? `${s.kind}/${s.namespace ?? ''}/${s.name}` : `${s.kind}/${s.name}`;
}

function bindingHandler(cluster: boolean): KindHandler {
  const label = cluster ? 'clusterrolebinding' : 'rolebinding';
  return {
    label,
    namespaced: !cluster,
    name: (body) => {
      const md = metadataOf(body)['name'];
      const roleRef = body['roleRef'];
      const ref = typeof roleRef === 'object' && roleRef !== null ? (roleRef as Record<string, unknown>)['name'] : undefined;
      if (typeof md === 'string' && typeof ref === 'string' && md !== ref) throw new CliError('usage', `the ${label} "${md}" has roleRef.name "${ref}": bindings are named after their role`);
      const role = typeof md === 'string' && md !== '' ? md : ref;
      if (typeof role !== 'string' || role === '') throw new CliError('usage', `the ${label} has neither metadata.name nor roleRef.name`);
      return role;
    },
    run: async (ctx, role, body) => {
      const project = cluster ? undefined : ctx.project();
      const base = (...rest: string[]): string => (project === undefined ? apiPath('clusterrolebindings', role, ...rest) : apiPath('namespaces', project, 'rolebindings', role, ...rest));
      const wanted = subjectsOf(body, project);
      const existing = (await getOrUndefined(ctx.api, base(), roleBindingSchema))?.subjects ?? [];
      const have = new Set(existing.map((s) => subjectKey({ ...s, namespace: s.namespace ?? project })));
      const want = new Set(wanted.map(subjectKey));
      let changed = false;
      for (const s of wanted) {
        if (have.has(subjectKey(s))) continue;
        await ctx.api.json('POST', base('subjects'), anyBody, { body: s });
        changed = true;
      }
      if (ctx.mode === 'apply') {
        for (const s of existing) {
          const arg = (s.kind === 'ServiceAccount' ? { kind: 'ServiceAccount', name: s.name, namespace: s.namespace ?? project ?? '' } : { kind: s.kind, name: s.name }) as SubjectArg;
          if (want.has(subjectKey(arg))) continue;
          await ctx.api.json('DELETE', base('subjects', ...subjectPathSegments(arg)), anyBody);
          changed = true;
        }
      }
      const object = await ctx.api.json('GET', base(), roleBindingSchema);
      return { outcome: changed ? (existing.length === 0 ? 'created' : 'configured') : 'unchanged', object };
    },
  };
}

export const KIND_HANDLERS: Readonly<Record<string, KindHandler>> = {
  imagestream: {
    label: 'imagestream',
    namespaced: true,
    name: (body) => checkStreamName(metadataName(body, 'ImageStream')),
    run: async (ctx, name, body) => {
      const project = ctx.project();
      const existing = await getOrUndefined(ctx.api, streamPath(project, name), imageStreamSchema);
      if (existing === undefined) return { outcome: 'created', object: await ctx.api.json('POST', streamPath(project), imageStreamSchema, { body }) };
      if (ctx.mode === 'create') throw alreadyExists('imagestream', name);
      const updated = await ctx.api.json('PUT', streamPath(project, name), imageStreamSchema, { body });
      const same = updated.metadata.generation === existing.metadata.generation && serverAnnotations(updated.metadata.annotations) === serverAnnotations(existing.metadata.annotations);
      return { outcome: same ? 'unchanged' : 'configured', object: updated };
    },
  },
  imagestreamtag: {
    label: 'imagestreamtag',
    namespaced: true,
    name: (body) => {
      const ref = splitStreamTag(metadataName(body, 'ImageStreamTag'), true);
      return `${ref.name}:${ref.tag}`;
    },
    run: async (ctx, name, body) => {
      const project = ctx.project();
      const ref = splitStreamTag(name, true);
      const existing = await getOrUndefined(ctx.api, streamTagPath(project, ref.name, ref.tag), anyObject);
      if (existing !== undefined && ctx.mode === 'create') throw alreadyExists('imagestreamtag', name);
      const object = await ctx.api.json('PUT', streamTagPath(project, ref.name, ref.tag), anyObject, { body });
      return { outcome: existing === undefined ? 'created' : 'configured', object };
    },
  },
  secret: {
    label: 'secret',
    namespaced: true,
    name: (body) => checkSecretName(metadataName(body, 'Secret')),
    run: async (ctx, name, body) => {
      const project = ctx.project();
      const existing = await getOrUndefined(ctx.api, secretPath(project, name), anyObject);
      if (existing !== undefined) {
        if (ctx.mode === 'create') throw alreadyExists('secret', name);
        await ctx.api.json('DELETE', secretPath(project, name), anyBody);
      }
      const object = await ctx.api.json('POST', secretPath(project), anyObject, { body });
      return { outcome: existing === undefined ? 'created' : 'configured', object };
    },
  },
  serviceaccount: {
    label: 'serviceaccount',
    namespaced: true,
    name: (body) => {
      const name = metadataName(body, 'ServiceAccount');
      checkName('serviceaccounts', name);
      return name;
    },
    run: async (ctx, name, body) => {
      const project = ctx.project();
      const path = apiPath('namespaces', project, 'serviceaccounts');
      const existing = await getOrUndefined(ctx.api, apiPath('namespaces', project, 'serviceaccounts', name), anyObject);
      if (existing !== undefined) {
        if (ctx.mode === 'create') throw alreadyExists('serviceaccount', name);
        return { outcome: 'unchanged', object: existing };
      }
      return { outcome: 'created', object: await ctx.api.json('POST', path, anyObject, { body }) };
    },
  },
  project: {
    label: 'project',
    namespaced: false,
    name: (body) => {
      const name = metadataName(body, 'Project');
      checkName('projects', name);
      return name;
    },
    run: async (ctx, name, body) => {
      const existing = await getOrUndefined(ctx.api, apiPath('projects', name), anyObject);
      if (existing !== undefined) {
        if (ctx.mode === 'create') throw alreadyExists('project', name);
        return { outcome: 'unchanged', object: existing };
      }
      return { outcome: 'created', object: await ctx.api.json('POST', apiPath('projects'), anyObject, { body }) };
    },
  },
  rolebinding: bindingHandler(false),
  clusterrolebinding: bindingHandler(true),
  user: {
    label: 'user',
    namespaced: false,
    name: (body) => {
      const name = metadataName(body, 'User');
      checkName('users', name);
      return name;
    },
    run: async (ctx, name, body) => {
      const existing = await getOrUndefined(ctx.api, apiPath('users', name), anyObject);
      if (existing === undefined) return { outcome: 'created', object: await ctx.api.json('POST', apiPath('users'), anyObject, { body }) };
      if (ctx.mode === 'create') throw alreadyExists('user', name);
      const spec = body['spec'];
      if (typeof spec !== 'object' || spec === null || Object.keys(spec).length === 0) return { outcome: 'unchanged', object: existing };
      return { outcome: 'configured', object: await ctx.api.json('PUT', apiPath('users', name), anyObject, { body: { spec } }) };
    },
  },
  group: {
    label: 'group',
    namespaced: false,
    name: (body) => {
      const name = metadataName(body, 'Group');
      checkName('groups', name);
      return name;
    },
    run: async (ctx, name, body) => {
      const users = body['users'];
      if (users !== undefined && users !== null && (!Array.isArray(users) || users.some((u) => typeof u !== 'string'))) throw new CliError('usage', 'users must be a list of user names');
      const wanted = (users ?? []) as string[];
      let existing = await getOrUndefined(ctx.api, apiPath('groups', name), groupSchema);
      let outcome: Outcome = 'unchanged';
      if (existing === undefined) {
        existing = await ctx.api.json('POST', apiPath('groups'), groupSchema, { body: { metadata: { name } } });
        outcome = 'created';
      } else if (ctx.mode === 'create') {
        throw alreadyExists('group', name);
      }
      const have = new Set(existing.users ?? []);
      for (const user of wanted) {
        if (have.has(user)) continue;
        await ctx.api.json('POST', apiPath('groups', name, 'members'), anyBody, { body: { name: user } });
        if (outcome === 'unchanged') outcome = 'configured';
      }
      for (const user of have) {
        if (wanted.includes(user)) continue;
        await ctx.api.json('DELETE', apiPath('groups', name, 'members', user), anyBody);
        if (outcome === 'unchanged') outcome = 'configured';
      }
      return { outcome, object: await ctx.api.json('GET', apiPath('groups', name), groupSchema) };
    },
  },
};

/** The handler of a document's kind. @throws CliError('usage') for a kind the API does not know. */
export function handlerFor(kind: string): KindHandler {
  const handler = KIND_HANDLERS[kind.toLowerCase()];
  if (handler === undefined) {
    throw new CliError('usage', `unknown kind "${kind}": one of ImageStream, ImageStreamTag, Secret, ServiceAccount, Project, RoleBinding, ClusterRoleBinding, User, Group`);
  }
  return handler;
}

/**
 * The project a namespaced document goes to: its `metadata.namespace`, else
 * `-n`, else the current project.
 *
 * @throws CliError('usage') when the document and `-n` disagree.
 */
export function documentProject(body: Record<string, unknown>, namespace: string | undefined, entry: ServerEntry): string {
  const own = metadataOf(body)['namespace'];
  if (typeof own === 'string' && own !== '') {
    if (namespace !== undefined && namespace !== own) throw new CliError('usage', `the document is in namespace "${own}", not "${namespace}" given with -n`);
    checkName('projects', own);
    return own;
  }
  return projectOf(namespace, entry);
}

interface FileFlags {
  readonly filename?: string[];
  readonly namespace?: string;
  readonly output?: OutputFormat;
}

async function runDocuments(mode: Mode, flags: FileFlags): Promise<void> {
  const files = flags.filename ?? [];
  if (files.length === 0) throw new CliError('usage', `name the resources with -f FILE (JSON or YAML; - for standard input)`);
  const docs: ResourceDocument[] = [];
  for (const file of files) docs.push(...(await readResourceDocuments(file)));
  // Every kind and name is checked before the first request, so that a typo in the last document changes nothing.
  const planned = docs.map((doc) => {
    try {
      const handler = handlerFor(doc.kind);
      return { doc, handler, name: handler.name(doc.body) };
    } catch (error) {
      if (error instanceof CliError) throw new CliError(error.code, `${doc.origin}: ${error.message}`);
      throw error;
    }
  });
  await withSession(async ({ api, entry }) => {
    const objects: unknown[] = [];
    const failures: string[] = [];
    for (const { doc, handler, name } of planned) {
      const ctx: Context = { api, mode, project: () => documentProject(doc.body, flags.namespace, entry) };
      try {
        const { outcome, object } = await handler.run(ctx, name, doc.body);
        objects.push(object);
        if (flags.output !== 'json' && flags.output !== 'yaml') print(`${handler.label} "${name}" ${outcome}`);
      } catch (error) {
        // The server refused this one (or it exists): say so and go on; anything else (no connection, no login) ends the run.
        if (!(error instanceof CliError) || (error.code !== 'api' && error.code !== 'usage')) throw error;
        failures.push(`${handler.label} "${name}": ${error.message}`);
      }
    }
    if (flags.output === 'json' || flags.output === 'yaml') {
      const value = objects.length === 1 && planned.length === 1 ? objects[0] : { apiVersion: 'berth.dev/v1', kind: 'List', metadata: {}, items: objects };
      print(flags.output === 'json' ? formatJson(value) : formatYaml(value));
    }
    if (failures.length === 1) throw new CliError('api', failures[0] ?? '');
    // Still one line (every error is): all the failures, separated by semicolons.
    if (failures.length > 1) throw new CliError('api', `${failures.length} of ${planned.length} resources failed: ${failures.map((f) => f.replace(/\s*\n\s*/g, ' ')).join('; ')}`);
  });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerApplyCommands(program: Command): void {
  // `create -f FILE` is the create group itself; its options stop at a subcommand
  // (`create serviceaccount X -n P` keeps its -n), hence positional options.
  commandGroup(program, 'create', 'create a resource')
    .enablePositionalOptions()
    .argument('[resource]', 'what to create (see the commands), or nothing with -f FILE')
    .option('-f, --filename <file>', 'a JSON or YAML file of resources (a List or several YAML documents too; - for standard input); repeatable', collect)
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (resource: string | undefined, flags: FileFlags) => {
      if (resource !== undefined) throw new CliError('usage', `unknown resource "${resource}" for create: use \`berth create --help\`, or create -f FILE`);
      await runDocuments('create', flags);
    });

  program
    .command('apply')
    .description('create the resources of a file, or update them where they exist')
    .option('-f, --filename <file>', 'a JSON or YAML file of resources (a List or several YAML documents too; - for standard input); repeatable', collect)
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (flags: FileFlags) => {
      await runDocuments('apply', flags);
    });
}
