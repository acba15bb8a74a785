/**
 * `berth login`, `logout`, `whoami` and `registry login`: getting, showing,
 * dropping and handing on the OAuth tokens of the current server.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { apiPath, BerthApi, createDispatcher } from './api-client.ts';
import { ApiError, CliError } from './cli-errors.ts';
import { ConfigStore, findServer, normalizeServerUrl, withServer } from './client-config.ts';
import type { ServerEntry } from './client-config.ts';
import { canPrompt, obtainPassword, promptLine } from './prompt.ts';
import { basicAuth, defaultAuthFile, writeAuthEntry } from './registry-auth-file.ts';
import { projectSchema, userSchema } from './resources.ts';
import type { TokenResponse } from './resources.ts';
import { commandGroup, note, print, withSession } from './session.ts';
import { webLogin } from './web-login.ts';

interface LoginFlags {
  readonly username?: string;
  readonly password?: string;
  readonly token?: string;
  readonly web?: boolean;
  readonly certificateAuthority?: string;
  readonly insecureSkipTlsVerify?: boolean;
}

export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description('log in to a Berth server (password, pasted token or browser) and make it the current server')
    .argument('[server]', 'server URL, e.g. https://registry.example.com:5000 (default: the current server)')
    .option('-u, --username <user>', 'user name (prompted on a terminal when missing)')
    .option('-p, --password <password>', 'password; "-" reads it from standard input (prompted without echo when missing)')
    .option('--token <token>', 'an access token, e.g. from <server>/oauth/token/request')
    .option('--web', 'log in in a browser (authorization code flow with PKCE)')
    .option('--certificate-authority <file>', 'PEM file of the CA that signed the server certificate (remembered)')
    .option('--insecure-skip-tls-verify', 'do not verify the server certificate (remembered; insecure)')
    .action(async (server: string | undefined, flags: LoginFlags) => {
      await login(server, flags);
    });

  program
    .command('logout')
    .description('revoke the tokens of the current server and forget them')
    .action(async () => {
      await logout();
    });

  program
    .command('whoami')
    .description('show the user logged in to the current server')
    .option('-t, --show-token', 'print the access token instead')
    .option('--show-server', 'print the server URL instead')
    .action(async (flags: { showToken?: boolean; showServer?: boolean }) => {
      await withSession(async ({ api }) => {
        if (flags.showServer === true) {
          print(api.server);
          return;
        }
        // Asking the server (rather than printing the config) proves the token still works and refreshes it if needed.
        const user = await api.json('GET', apiPath('users', '~'), userSchema);
        const token = api.entry.accessToken;
        print(flags.showToken === true && token !== undefined ? token : user.metadata.name);
      });
    });

  commandGroup(program, 'registry', 'container registry helpers')
    .command('login')
    .description('write the credentials of the current login into the podman/skopeo/docker auth file')
    .option('--auth-file <file>', 'auth file (default: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or ~/.config/containers/auth.json)')
    .action(async (flags: { authFile?: string }) => {
      await withSession(async ({ api }) => {
        const user = await api.json('GET', apiPath('users', '~'), userSchema);
        const token = api.entry.accessToken;
        if (token === undefined) throw new CliError('not-configured', `not logged in to ${api.server}: run \`berth login ${api.server}\``);
        // The registry is served on the same host:port as the API; URL.host drops a default port, as podman's keys do.
        const host = new URL(api.server).host;
        const file = flags.authFile ?? defaultAuthFile();
        // /v2/token accepts an OAuth access token as the Basic password (docs/api.md).
        await writeAuthEntry(file, host, basicAuth(user.metadata.name, token));
        print(`Saved the credentials of "${user.metadata.name}" for ${host} in ${file}`);
      });
    });
}

function conflicting(flags: LoginFlags): string | undefined {
  const passwordFlags = flags.username !== undefined || flags.password !== undefined;
  if (flags.token !== undefined && (passwordFlags || flags.web === true)) return '--token cannot be combined with -u, -p or --web';
  if (flags.web === true && passwordFlags) return '--web cannot be combined with -u or -p';
  if (flags.certificateAuthority !== undefined && flags.insecureSkipTlsVerify === true) return '--certificate-authority and --insecure-skip-tls-verify exclude each other';
  return undefined;
}

async function login(serverArg: string | undefined, flags: LoginFlags): Promise<void> {
  const problem = conflicting(flags);
  if (problem !== undefined) throw new CliError('usage', problem);
  const store = new ConfigStore();
  const config = await store.load();
  const url = serverArg === undefined ? config.currentServer : normalizeServerUrl(serverArg);
  if (url === undefined) throw new CliError('usage', 'no server given: berth login https://HOST:PORT');
  const previous = findServer(config, url);

  // TLS settings given now replace the remembered ones; otherwise the remembered ones apply.
  const tls: Pick<ServerEntry, 'certificateAuthority' | 'insecureSkipTlsVerify'> =
    flags.certificateAuthority !== undefined
      ? { certificateAuthority: resolve(flags.certificateAuthority), insecureSkipTlsVerify: undefined }
      : flags.insecureSkipTlsVerify === true
        ? { certificateAuthority: undefined, insecureSkipTlsVerify: true }
        : { certificateAuthority: previous?.certificateAuthority, insecureSkipTlsVerify: previous?.insecureSkipTlsVerify };

  const probe: ServerEntry = { url, ...tls };
  const api = new BerthApi(store, probe, await createDispatcher(probe));
  try {
    let tokens: { accessToken: string; refreshToken?: string | undefined };
    let how: string;
    if (flags.token !== undefined) {
      tokens = { accessToken: flags.token };
      how = 'the token provided';
    } else if (flags.web === true) {
      const answer = await webLogin(api, {
        onUrl: (authorizeUrl) => print(`Open this URL in a browser to log in to ${url}:\n\n    ${authorizeUrl}\n\nWaiting for the login to complete...`),
      });
      tokens = fromTokenResponse(answer);
      how = 'the browser';
    } else {
      const username = flags.username ?? (await askUsername(previous?.user));
      const password = await obtainPassword(flags.password, '-p', 'Password: ');
      try {
        tokens = fromTokenResponse(await api.token({ grant_type: 'password', username, password }));
      } catch (error) {
        if (error instanceof ApiError) throw new CliError('api', `login failed: ${error.message}`, { cause: error });
        throw error;
      }
      how = 'a password';
    }

    // The name the server knows us by (a pasted token says nothing about it), and proof the token works.
    let name: string;
    try {
      name = (await api.json('GET', apiPath('users', '~'), userSchema, { token: tokens.accessToken })).metadata.name;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw new CliError('api', `login failed: the server does not accept the token (${error.message})`, { cause: error });
      throw error;
    }

    const userChanged = previous?.user !== undefined && previous.user !== name;
    const saved = await store.update((c) => ({
      ...withServer(c, url, {
        user: name,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        ...tls,
        // Another user's current project is not necessarily one this user can see.
        ...(userChanged ? { project: undefined } : {}),
      }),
      currentServer: url,
    }));
    print(`Logged into "${url}" as "${name}" using ${how}.`);
    await revokeReplaced(api, previous, tokens);
    const entry = findServer(saved, url);
    if (entry !== undefined) await reportProjects(store, entry);
  } finally {
    await api.close();
  }
}

/**
 * The tokens of the previous login on this server are no longer in any
 * config: revoke them rather than leave a live refresh token behind. The new
 * login already succeeded, so a failure here is a warning, not an error.
 */
async function revokeReplaced(api: BerthApi, previous: ServerEntry | undefined, current: { accessToken: string; refreshToken?: string | undefined }): Promise<void> {
  const stale: Array<[string, 'access_token' | 'refresh_token']> = [];
  if (previous?.refreshToken !== undefined && previous.refreshToken !== current.refreshToken) stale.push([previous.refreshToken, 'refresh_token']);
  if (previous?.accessToken !== undefined && previous.accessToken !== current.accessToken) stale.push([previous.accessToken, 'access_token']);
  for (const [token, hint] of stale) {
    try {
      await api.revoke(token, hint);
    } catch (error) {
      note(`warning: could not revoke the previous login's token: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
  }
}

function fromTokenResponse(answer: TokenResponse): { accessToken: string; refreshToken?: string | undefined } {
  return { accessToken: answer.access_token, refreshToken: answer.refresh_token };
}

async function askUsername(previous: string | undefined): Promise<string> {
  if (!canPrompt()) throw new CliError('usage', 'a user name is required: pass -u USER (or --token TOKEN, or --web)');
  const answer = (await promptLine(previous === undefined ? 'Username: ' : `Username [${previous}]: `)).trim();
  const name = answer === '' ? previous : answer;
  if (name === undefined || name === '') throw new CliError('usage', 'a user name is required');
  return name;
}

/** What oc says after a login: the projects, and which one is current (choosing the only one). */
async function reportProjects(store: ConfigStore, entry: ServerEntry): Promise<void> {
  const api = await BerthApi.open(store, entry);
  try {
    const names = (await api.list(apiPath('projects'), projectSchema)).items.map((p) => p.metadata.name);
    let current = entry.project !== undefined && names.includes(entry.project) ? entry.project : undefined;
    if (current === undefined && names.length === 1) current = names[0];
    if (current !== entry.project) await store.update((c) => withServer(c, entry.url, { project: current }));
    if (names.length === 0) {
      print("\nYou don't have any projects. You can try to create a new project, by running\n\n    berth new-project <projectname>\n");
    } else if (names.length === 1) {
      print(`\nYou have one project on this server: "${current ?? ''}"\n\nUsing project "${current ?? ''}".`);
    } else {
      print("\nYou have access to the following projects and can switch between them with 'berth project <projectname>':\n");
      print(names.map((n) => `  ${n === current ? '*' : ' '} ${n}`).join('\n'));
      if (current !== undefined) print(`\nUsing project "${current}".`);
    }
  } finally {
    await api.close();
  }
}

async function logout(): Promise<void> {
  await withSession(async ({ store, api }) => {
    const { accessToken, refreshToken, user } = api.entry;
    if (accessToken === undefined && refreshToken === undefined) throw new CliError('not-configured', `not logged in to ${api.server}`);
    // Revoke first, forget second, and forget even when revoking fails: the user asked to be logged out here.
    const failures: string[] = [];
    for (const [token, hint] of [[refreshToken, 'refresh_token'], [accessToken, 'access_token']] as const) {
      if (token === undefined) continue;
      try {
        await api.revoke(token, hint);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
    await store.update((c) => withServer(c, api.server, { user: undefined, accessToken: undefined, refreshToken: undefined }));
    if (failures.length > 0) throw new CliError('api', `removed the tokens from the config, but the server did not revoke them: ${failures[0] ?? ''}`);
    print(`Logged "${user ?? ''}" out on "${api.server}"`);
  });
}
