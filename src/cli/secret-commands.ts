/**
 * Pull secrets for imports from private registries: `create secret
 * docker-registry`, `get secrets`, `delete secret`. The server stores them
 * encrypted and never returns the credentials, only the registry hosts.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { apiPath } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { secretColumns } from './image-format.ts';
import { secretSchema } from './imagestream-resources.ts';
import { formatJson, formatList, formatObject, formatYaml, outputOption } from './output.ts';
import type { OutputFormat } from './output.ts';
import { obtainPassword } from './prompt.ts';
import { anyBody } from './resources.ts';
import { commandGroup, namespaceOption, note, print, projectOf, withSession } from './session.ts';

const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const DOCKER_CONFIG_KEY = '.dockerconfigjson';
export const DOCKER_CONFIG_TYPE = 'kubernetes.io/dockerconfigjson';

/** @throws CliError('usage') unless `name` is a secret name (the server's rule). */
export function checkSecretName(name: string): string {
  if (name.length > 253 || !SECRET_NAME.test(name)) {
    throw new CliError('usage', `invalid secret name "${name}": use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`);
  }
  return name;
}

export function secretPath(project: string, name?: string): string {
  return name === undefined ? apiPath('namespaces', project, 'secrets') : apiPath('namespaces', project, 'secrets', name);
}

/** The auth.json for one registry, as `docker login` / `podman login` write it. */
export function dockerConfigJson(server: string, username: string, password: string, email?: string): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (host === '') throw new CliError('usage', '--docker-server is empty');
  if (username === '' || username.includes(':')) throw new CliError('usage', 'the user name must not be empty or contain ":"');
  const auth = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  return JSON.stringify({ auths: { [host]: { auth, ...(email === undefined ? {} : { email }) } } });
}

/**
 * Checks an auth.json text as the server will (JSON, at least one entry in
 * `auths`), so that a wrong file fails before the request, naming the file.
 *
 * @returns the registry hosts it holds.
 * @throws CliError('usage')
 */
export function checkDockerConfig(text: string, source: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError('usage', `${source} is not JSON: ${(error as Error).message}`);
  }
  const auths = typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['auths'] : undefined;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths) || Object.keys(auths).length === 0) {
    throw new CliError('usage', `${source} has no registries in "auths" (expected an auth.json as docker login or podman login write it)`);
  }
  return Object.keys(auths);
}

/** The Secret body of the API for an auth.json text. */
export function secretBody(name: string, dockerConfig: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: DOCKER_CONFIG_TYPE,
    metadata: { name },
    data: { [DOCKER_CONFIG_KEY]: Buffer.from(dockerConfig, 'utf8').toString('base64') },
  };
}

interface DockerRegistryFlags {
  readonly namespace?: string;
  readonly output?: OutputFormat;
  readonly dockerServer?: string;
  readonly dockerUsername?: string;
  readonly dockerPassword?: string;
  readonly dockerEmail?: string;
  readonly fromFile?: string;
}

async function dockerConfigFromFlags(flags: DockerRegistryFlags): Promise<string> {
  const credentialFlags = [flags.dockerServer, flags.dockerUsername, flags.dockerPassword, flags.dockerEmail].some((f) => f !== undefined);
  if (flags.fromFile !== undefined) {
    if (credentialFlags) throw new CliError('usage', '--from-file cannot be combined with --docker-server, --docker-username, --docker-password or --docker-email');
    // kubectl's form names the key too: --from-file=.dockerconfigjson=PATH.
    const path = flags.fromFile.startsWith(`${DOCKER_CONFIG_KEY}=`) ? flags.fromFile.slice(DOCKER_CONFIG_KEY.length + 1) : flags.fromFile;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new CliError('file', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    checkDockerConfig(text, path);
    return text;
  }
  if (flags.dockerServer === undefined) throw new CliError('usage', 'name the registry with --docker-server HOST (or give an auth.json with --from-file)');
  if (flags.dockerUsername === undefined) throw new CliError('usage', '--docker-username is required (or give an auth.json with --from-file)');
  const password = await obtainPassword(flags.dockerPassword, '--docker-password', `Password for ${flags.dockerUsername} on ${flags.dockerServer}: `);
  return dockerConfigJson(flags.dockerServer, flags.dockerUsername, password, flags.dockerEmail);
}

export function registerSecretCommands(program: Command): void {
  const create = commandGroup(program, 'create', 'create a resource');
  commandGroup(create, 'secret', 'create a secret')
    .command('docker-registry')
    .description('create a pull secret for imports from a private registry')
    .argument('<name>', 'secret name')
    .option('--docker-server <host>', 'the registry host, e.g. quay.io or registry.example.com:5000')
    .option('--docker-username <user>', 'user name on that registry')
    .option('--docker-password <password>', 'password or token (- reads it from standard input; prompted on a terminal when absent)')
    .option('--docker-email <email>', 'e-mail address (kept in the auth.json, unused by Berth)')
    .option('--from-file <auth.json>', 'an auth.json as docker login or podman login write it, instead of the --docker-* flags')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string, flags: DockerRegistryFlags) => {
      checkSecretName(name);
      const dockerConfig = await dockerConfigFromFlags(flags);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const secret = await api.json('POST', secretPath(project), secretSchema, { body: secretBody(name, dockerConfig) });
        if (flags.output === 'json') print(formatJson(secret));
        else if (flags.output === 'yaml') print(formatYaml(secret));
        else print(`secret "${secret.metadata.name}" created in project "${project}" for ${(secret.registries ?? []).join(', ')}`);
      });
    });

  commandGroup(program, 'get', 'list or show resources')
    .command('secrets')
    .aliases(['secret'])
    .description("list a project's pull secrets (their registries, never their credentials)")
    .argument('[name]', 'show only this one')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: { namespace?: string; output?: OutputFormat }) => {
      if (name !== undefined) checkSecretName(name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        if (name !== undefined) {
          print(formatObject(flags.output, secretColumns(), await api.json('GET', secretPath(project, name), secretSchema)));
          return;
        }
        const list = await api.list(secretPath(project), secretSchema);
        const text = formatList(flags.output, 'SecretList', secretColumns(), list.items);
        if (text === '') note(`No secrets found in project ${project}.`);
        print(text);
      });
    });

  commandGroup(program, 'delete', 'delete a resource')
    .command('secret')
    .aliases(['secrets'])
    .description('delete a pull secret')
    .argument('<name>', 'secret name')
    .addOption(namespaceOption())
    .action(async (name: string, flags: { namespace?: string }) => {
      checkSecretName(name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        await api.json('DELETE', secretPath(project, name), anyBody);
        print(`secret "${name}" deleted from project "${project}"`);
      });
    });
}
