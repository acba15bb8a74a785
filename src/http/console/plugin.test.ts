import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { consolePlugin } from './plugin.ts';

const INDEX = '<!doctype html><title>Berth</title><div id="root"></div>';
const SCRIPT = 'console.log("berth");'.repeat(100);

describe('consolePlugin', () => {
  let root: string;
  let app: FastifyInstance;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-console-'));
    const dist = join(root, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), INDEX);
    await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(dist, 'assets', 'index-abc123.js'), SCRIPT);
    await writeFile(join(dist, 'assets', 'index-abc123.js.gz'), gzipSync(SCRIPT));
    await writeFile(join(dist, 'assets', 'index-abc123.css'), 'body{}');
    await writeFile(join(root, 'secret.txt'), 'outside the dist dir');
    app = Fastify();
    await app.register(consolePlugin, { distDir: dist });
    // Other surfaces keep their paths: the console registers nothing there.
    app.get('/v2/', async () => ({}));
    app.get('/apis/x', async () => ({ api: true }));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers index.html for /, /console and every client-side route, not cached', async () => {
    for (const url of ['/', '/console', '/console/', '/console/projects', '/console/projects/p/imagestreams/a/b/-/tags/3.12?platform=linux%2Farm64', '/console/callback?code=x&state=y']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8', url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(res.body, INDEX, url);
    }
  });

  it('serves hashed assets immutable, with their content type, precompressed when accepted', async () => {
    const plain = await app.inject({ method: 'GET', url: '/console/assets/index-abc123.js' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, SCRIPT);
    const gz = await app.inject({ method: 'GET', url: '/console/assets/index-abc123.js', headers: { 'accept-encoding': 'br;q=0, gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['vary'], 'Accept-Encoding');
    assert.equal(Number(gz.headers['content-length']), gzipSync(SCRIPT).length);
    const css = await app.inject({ method: 'GET', url: '/console/assets/index-abc123.css', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['content-encoding'], undefined, 'no .gz sibling: sent as is');
    const icon = await app.inject({ method: 'GET', url: '/console/favicon.svg' });
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'public, max-age=300');
    const head = await app.inject({ method: 'HEAD', url: '/console/assets/index-abc123.js' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
  });

  it('answers 404 for a missing asset instead of HTML', async () => {
    const res = await app.inject({ method: 'GET', url: '/console/assets/index-gone.js' });
    assert.equal(res.statusCode, 404);
    assert.doesNotMatch(res.body, /<title>Berth/);
  });

  it('refuses directory traversal, encoded or not', async () => {
    for (const url of [
      '/console/..%2fsecret.txt',
      '/console/..%2f..%2fsecret.txt',
      '/console/assets/..%2f..%2fsecret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/..%5csecret.txt',
      '/console/../secret.txt',
      '/console/assets/%00.js',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /outside the dist dir/, url);
    }
    // A path that does not decode at all is refused by Fastify's router before the plugin sees it.
    assert.equal((await app.inject({ method: 'GET', url: '/console/%E0%A4%A' })).statusCode, 400);
  });

  it('leaves other surfaces alone', async () => {
    assert.deepEqual((await app.inject({ method: 'GET', url: '/apis/x' })).json(), { api: true });
    assert.equal((await app.inject({ method: 'GET', url: '/v2/' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/oauth/authorize' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/elsewhere' })).statusCode, 404);
  });

  it('answers a clear 503 page when the console was not built', async () => {
    const bare = Fastify();
    await bare.register(consolePlugin, { distDir: join(root, 'no-such-dist') });
    for (const url of ['/', '/console/projects']) {
      const res = await bare.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 503, url);
      assert.match(res.body, /has not been built/);
      assert.match(res.body, /npm run build/);
    }
    await bare.close();
  });
});
