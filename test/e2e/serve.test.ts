/**
 * `berth serve` as a newcomer meets it: TLS by default with a local CA and
 * the commands that trust it, plain HTTP only when asked (and said so), a
 * certificate of one's own, a YAML config file with environment overrides,
 * and `npx berth` from the project folder.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { generateTestCa, PROJECT_ROOT, startBerth } from '../support/berth-server.ts';
import { buildManifest, describeResponse, pushImage, RegistryClient } from '../support/registry-http.ts';

const execFileAsync = promisify(execFile);

describe('berth serve', { concurrency: false, timeout: 180_000 }, () => {
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-serve-'));
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('TLS by default: a local CA, its path, and one-line commands that trust it for the address clients use', async () => {
    const server = await startBerth();
    try {
      assert.ok(server.url.startsWith('https://'), server.url);
      const ca = server.caPath;
      assert.ok(ca !== undefined && ca.startsWith(server.dataDir), `the CA lives in the data directory: ${ca}`);
      const hints = [
        `mkdir -p /etc/containers/certs.d/${server.hostPort} && sudo cp ${ca} /etc/containers/certs.d/${server.hostPort}/ca.crt`,
        `mkdir -p ~/.config/containers/certs.d/${server.hostPort} && cp ${ca} ~/.config/containers/certs.d/${server.hostPort}/ca.crt`,
        `curl --cacert ${ca} https://${server.hostPort}/v2/`,
      ];
      // The hints follow the CA line, which is all startBerth waits for.
      for (const hint of hints) await server.waitForLog((line) => line.includes(hint));
      // The printed CA is the one that signed what the server presents.
      const client = await RegistryClient.create(server.url, ca);
      try {
        const base = await client.request('GET', '/v2/');
        assert.equal(base.status, 401, describeResponse(base));
        assert.match(String(base.headers['www-authenticate']), /^Bearer realm="https:\/\//);
      } finally {
        await client.close();
      }
      const fastifyLine = await server.waitForLog((line) => line.includes('Server listening at'));
      assert.match(fastifyLine, /Server listening at https:\/\//, 'the log names the scheme it serves');
    } finally {
      await server.stop();
    }
  });

  test('--insecure-http serves plain HTTP and says so in the log', async () => {
    const server = await startBerth({ insecureHttp: true });
    try {
      assert.ok(server.url.startsWith('http://'), server.url);
      assert.equal(server.logs().some((line) => line.startsWith('CA certificate:')), false, 'no CA over plain HTTP');
      const warning = await server.waitForLog((line) => line.includes('serving plain HTTP'));
      assert.match(warning, /"level":40/, 'a warning');
    } finally {
      await server.stop();
    }
  });

  test('a configured certificate and key are served instead of the local CA', async () => {
    const own = await generateTestCa(join(work, 'own-ca'));
    const server = await startBerth({
      env: { BERTH_TLS__CERT_FILE: own.certPath, BERTH_TLS__KEY_FILE: own.keyPath },
      caPath: own.caPath,
    });
    try {
      assert.equal(server.logs().some((line) => line.startsWith('CA certificate:')), false, 'no local CA is announced');
      const trusting = await RegistryClient.create(server.url, own.caPath);
      try {
        assert.equal((await trusting.request('GET', '/v2/')).status, 401);
      } finally {
        await trusting.close();
      }
      await assert.rejects(access(join(server.dataDir, 'tls', 'ca.crt')), 'no local CA is generated beside a configured certificate');
    } finally {
      await server.stop();
    }
  });

  test('--config reads a YAML file, and environment variables override it', async () => {
    const file = join(work, `berth-${randomBytes(4).toString('hex')}.yaml`);
    await writeFile(file, ['registry:', '  maxTagsPage: 2', '  maxCatalogPage: 4', 'log:', '  requests: false', ''].join('\n'));
    const server = await startBerth({
      insecureHttp: true,
      extraArgs: ['--config', file],
      env: { BERTH_REGISTRY__MAX_TAGS_PAGE: '3' },
    });
    try {
      const client = await RegistryClient.create(server.url, undefined, { credentials: server.credentials });
      try {
        const image = buildManifest(randomBytes(64), [randomBytes(128)]);
        for (const tag of ['a', 'b', 'c', 'd', 'e']) await pushImage(client, 'cfg/app', tag, image);
        const tags = await client.request('GET', '/v2/cfg/app/tags/list?n=100');
        assert.deepEqual((JSON.parse(tags.text()) as { tags: string[] }).tags, ['a', 'b', 'c'], 'the environment (3) beats the file (2)');
        assert.match(String(tags.headers['link']), /n=3&last=c/);
        for (const name of ['cfg/one', 'cfg/two', 'cfg/three', 'cfg/four', 'cfg/five']) await pushImage(client, name, 'v1', image);
        const catalog = await client.request('GET', '/v2/_catalog?n=100');
        assert.equal((JSON.parse(catalog.text()) as { repositories: string[] }).repositories.length, 4, 'the file sets the catalog page (4)');
      } finally {
        await client.close();
      }
      // log.requests: false in the file: no request lines at all.
      assert.equal(server.requests().length, 0, 'request logging turned off by the file');
    } finally {
      await server.stop();
    }
  });

  test('an unknown setting stops the server with a clear message', async () => {
    const file = join(work, 'typo.yaml');
    await writeFile(file, 'registry:\n  maxTagPage: 2\n');
    const failed = await execFileAsync(process.execPath, [join(PROJECT_ROOT, 'bin', 'berth.js'), 'serve', '--config', file, '--data', join(work, 'typo-data')], { cwd: PROJECT_ROOT })
      .then(() => undefined, (error: unknown) => error as { code?: number; stderr?: string });
    assert.ok(failed !== undefined, 'serve must fail');
    assert.equal(failed.code, 2);
    assert.match(failed.stderr ?? '', /maxTagPage/);
  });

  test('npx berth runs from the project folder, on Node.js 24', async () => {
    const { stdout } = await execFileAsync('npx', ['--no-install', 'berth', '--version'], { cwd: PROJECT_ROOT });
    assert.match(stdout, /^berth \d+\.\d+\.\d+ \(Node\.js v24\./);
    const help = await execFileAsync('npx', ['--no-install', 'berth', 'serve', '--help'], { cwd: PROJECT_ROOT });
    assert.match(help.stdout, /--insecure-http/);
  });
});
