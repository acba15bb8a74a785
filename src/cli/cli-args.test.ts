/**
 * The `berth` client commands as a user runs them: a child process, its exit
 * status and its stderr. Every failure must be exactly one `berth: …` line
 * and a non-zero status, whether commander, the config or the network
 * refuses. No server is needed: these all fail before or at connecting.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigStore, withServer } from './client-config.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'berth.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let configDir: string;

function berth(args: string[], input?: string): Promise<Result> {
  return new Promise((resolveRun) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, BERTH_CONFIG_DIR: configDir }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolveRun({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Exactly one line on stderr, starting `berth: `, matching `pattern`; a non-zero exit. */
function assertOneLineError(result: Result, pattern: RegExp): void {
  assert.notEqual(result.code, 0, `exit status of a failure; stderr: ${result.stderr}`);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', /^berth: /);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

before(async () => {
  configDir = await mkdtemp(join(tmpdir(), 'berth-cli-args-'));
});
after(async () => {
  await rm(configDir, { recursive: true, force: true });
});

describe('usage errors', { concurrency: true }, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a missing argument', ['new-project'], /missing required argument 'name'/],
    ['an unknown output format', ['projects', '-o', 'xml'], /argument 'xml' is invalid\. Allowed choices are json, yaml, wide/],
    ['an unknown command, with a suggestion on the same line', ['get', 'rolebindingz'], /unknown command 'rolebindingz' \(Did you mean/],
    ['an unknown option', ['whoami', '--bogus'], /unknown option '--bogus'/],
    ['an unknown role', ['policy', 'add-role-to-user', 'registry-owner', 'bob'], /unknown role "registry-owner": one of registry-viewer/],
    ['a cluster role bound in a project', ['policy', 'add-role-to-user', 'cluster-admin', 'bob'], /role "cluster-admin" is registry-wide/],
    ['a project role bound registry-wide', ['policy', 'add-cluster-role-to-user', 'registry-viewer', 'bob'], /role "registry-viewer" is a project role/],
    ['a malformed service account', ['policy', 'add-role-to-user', 'registry-viewer', 'system:serviceaccount:p'], /invalid service account/],
    ['an invalid project name', ['new-project', 'My_Project'], /invalid project name "My_Project"/],
    ['an unknown verb', ['who-can', 'fly', 'p'], /unknown verb "fly": one of pull, push/],
    ['a bad duration', ['create', 'token', 'serviceaccount', 'ci', '--duration', '1y'], /invalid duration "1y"/],
    ['conflicting login flags', ['login', 'https://h', '--token', 't', '-u', 'a'], /--token cannot be combined/],
    ['a server URL with a path', ['login', 'https://h/v2', '-u', 'a', '-p', 'b'], /no path/],
    ['login without a server', ['login', '-u', 'a', '-p', 'b'], /no server given/],
    ['no user and no terminal', ['login', 'https://127.0.0.1:1'], /a user name is required: pass -u USER/],
    ['no password and no terminal', ['login', 'https://127.0.0.1:1', '-u', 'alice'], /a password is required: pass -p PASSWORD, or -p -/],
    ['a missing htpasswd file', ['adm', 'users', 'import', 'htpasswd', '/nonexistent/htpasswd'], /cannot read \/nonexistent\/htpasswd: ENOENT/],
  ];
  for (const [what, args, pattern] of cases) {
    test(what, async () => {
      assertOneLineError(await berth(args), pattern);
    });
  }

  test('an empty password from standard input', async () => {
    assertOneLineError(await berth(['login', 'https://127.0.0.1:1', '-u', 'alice', '-p', '-'], '\n'), /the password is empty/);
  });

  test('an htpasswd file with a weak scheme is refused as a whole before any request', async () => {
    const file = join(configDir, 'htpasswd');
    await writeFile(file, 'alice:$2y$05$abcdefghijklmnopqrstuu5Zm0dC0I5rJd2bOmbo7nQnEUv2pWDa\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n');
    assertOneLineError(await berth(['adm', 'users', 'import', 'htpasswd', file]), /line 2: user bob: SHA-1 \(\{SHA\}\) is not supported/);
  });

  test('--help exits 0', async () => {
    const result = await berth(['policy', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /add-role-to-user/);
  });
});

describe('-n/--namespace on every command', () => {
  test('every runnable command accepts -n (ignored where it is not about one project, as oc does)', async () => {
    const { buildProgram } = await import('./main.ts');
    const missing: string[] = [];
    const walk = (command: Command, path: string[]): void => {
      for (const sub of command.commands) {
        const here = [...path, sub.name()];
        if (sub.commands.length > 0) walk(sub, here);
        else if (!sub.options.some((o) => o.short === '-n' && o.long === '--namespace')) missing.push(here.join(' '));
      }
    };
    walk(buildProgram(), []);
    assert.deepEqual(missing, []);
  });

  test('commands that ignore -n still run: the error is the state, not an unknown option', { concurrency: true }, async () => {
    for (const args of [['whoami', '-n', 'p'], ['adm', 'users', 'list', '--namespace', 'p'], ['adm', 'signing-keys', 'list', '-n', 'p', '-o', 'json'], ['projects', '-n', 'p']]) {
      const result = await berth(args);
      assert.doesNotMatch(result.stderr, /unknown option/, args.join(' '));
      assertOneLineError(result, /no server selected|not logged in/);
    }
  });
});

describe('state errors', { concurrency: false }, () => {
  test('no server selected', async () => {
    assertOneLineError(await berth(['whoami']), /no server selected: log in first with `berth login URL`/);
  });

  test('logged out: not logged in, naming the server', async () => {
    await new ConfigStore(join(configDir, 'config.yaml')).update((c) => ({ ...withServer(c, 'https://127.0.0.1:1', { project: 'p' }), currentServer: 'https://127.0.0.1:1' }));
    assertOneLineError(await berth(['whoami']), /not logged in to https:\/\/127\.0\.0\.1:1: run `berth login https:\/\/127\.0\.0\.1:1`/);
    assertOneLineError(await berth(['get', 'rolebindings']), /not logged in/);
  });

  test('no project selected', async () => {
    await new ConfigStore(join(configDir, 'config.yaml')).update((c) => withServer(c, 'https://127.0.0.1:1', { project: undefined, accessToken: 'berth_at_x' }));
    assertOneLineError(await berth(['get', 'serviceaccounts']), /no project selected: pass -n PROJECT/);
  });

  test('a server that is not listening: one line naming the URL', async () => {
    // A port that was free a moment ago: nothing listens on it.
    const port = await new Promise<number>((resolvePort) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const address = srv.address();
        srv.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const url = `https://127.0.0.1:${port}`;
    await new ConfigStore(join(configDir, 'config.yaml')).update((c) => ({ ...withServer(c, url, { accessToken: 'berth_at_x', project: 'p' }), currentServer: url }));
    assertOneLineError(await berth(['get', 'rolebindings']), new RegExp(`cannot connect to ${url.replace(/\./g, '\\.')}: connect ECONNREFUSED`));
    assertOneLineError(await berth(['login', url, '-u', 'a', '-p', 'b']), /cannot connect to .*ECONNREFUSED/);
  });

  test('a CA file that cannot be read', async () => {
    assertOneLineError(await berth(['login', 'https://127.0.0.1:1', '--certificate-authority', '/nonexistent/ca.crt', '-u', 'a', '-p', 'b']), /cannot read the certificate authority \/nonexistent\/ca\.crt: ENOENT/);
  });

  test('a corrupt config file is named, and left alone', async () => {
    const path = join(configDir, 'config.yaml');
    await writeFile(path, 'servers: {url: 3}\n');
    const before = await stat(path);
    assertOneLineError(await berth(['projects']), /config\.yaml is not a Berth client config at servers/);
    assert.equal((await stat(path)).mtimeMs, before.mtimeMs);
  });
});
