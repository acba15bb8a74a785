import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultOAuthClients, isRegisteredRedirect } from './clients.ts';

describe('isRegisteredRedirect', () => {
  const [cli, web] = defaultOAuthClients('https://registry.example.com:5000/');
  assert.ok(cli !== undefined && web !== undefined);

  it('lets berth-cli use any port on loopback hosts (RFC 8252 §7.3)', () => {
    for (const uri of ['http://127.0.0.1:1/callback', 'http://127.0.0.1:65535/callback', 'http://localhost:8080/callback', 'http://[::1]:9000/callback', 'http://127.0.0.1/callback']) {
      assert.equal(isRegisteredRedirect(cli, uri), true, uri);
    }
  });

  it('refuses anything else for berth-cli', () => {
    for (const uri of [
      'https://127.0.0.1:8080/callback', 'http://127.0.0.2:8080/callback', 'http://127.0.0.1:8080/callback/', 'http://127.0.0.1:8080/Callback',
      'http://127.0.0.1:8080/callback?x=1', 'http://127.0.0.1:8080/callback#x', 'http://127.0.0.1:8080/a/../callback', 'http://user@127.0.0.1:8080/callback',
      'http://LOCALHOST:8080/callback', 'http://127.0.0.1:80/callback', 'http://localhost.evil.example:8080/callback', 'not a url', '',
    ]) {
      assert.equal(isRegisteredRedirect(cli, uri), false, uri);
    }
  });

  it('matches the console callback exactly, port included', () => {
    assert.equal(isRegisteredRedirect(web, 'https://registry.example.com:5000/console/callback'), true);
    assert.equal(isRegisteredRedirect(web, 'https://registry.example.com:5001/console/callback'), false);
    assert.equal(isRegisteredRedirect(web, 'https://registry.example.com:5000/console/callback?next=/'), false);
  });
});
