import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorizeUrl, base64Url, s256Challenge } from '../auth/pkce.ts';
import { dns1123LabelProblem, subjectNameProblem } from './names.ts';
import { parseStreamPath, paths } from './routes.ts';
import { searchStreams } from './search.ts';

describe('PKCE', () => {
  it('computes the RFC 7636 appendix B challenge', async () => {
    assert.equal(await s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    assert.equal(base64Url(new Uint8Array([251, 255])), '-_8');
  });
  it('builds the authorize URL for the console client', () => {
    const url = new URL(authorizeUrl({ origin: 'https://r.test', clientId: 'berth-console', redirectUri: 'https://r.test/console/callback', challenge: 'c', state: 's' }));
    assert.equal(url.pathname, '/oauth/authorize');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('redirect_uri'), 'https://r.test/console/callback');
    assert.equal(url.searchParams.get('response_type'), 'code');
  });
});

describe('routes', () => {
  it('round-trips stream names with slashes and tags with dots', () => {
    const url = paths.tag('p', 'a/b', '3.12', 'linux/arm64');
    assert.equal(url, '/console/projects/p/imagestreams/a/b/-/tags/3.12?platform=linux%2Farm64');
    assert.deepEqual(parseStreamPath('a/b/-/tags/3.12'), { stream: 'a/b', tag: '3.12' });
    assert.deepEqual(parseStreamPath('a/b'), { stream: 'a/b', tag: undefined });
  });
});

describe('names and search', () => {
  it('checks project and subject names as the API does', () => {
    assert.equal(dns1123LabelProblem('my-project'), undefined);
    assert.match(dns1123LabelProblem('My_Project') ?? '', /Lowercase/);
    assert.match(dns1123LabelProblem('a'.repeat(64)) ?? '', /63/);
    assert.equal(subjectNameProblem('User', 'alice@example.com'), undefined);
    assert.match(subjectNameProblem('User', 'system:admin') ?? '', /Letters/);
    assert.equal(subjectNameProblem('Group', 'system:unauthenticated'), undefined);
    assert.equal(subjectNameProblem('ServiceAccount', 'other:ci'), undefined);
  });
  it('finds streams by every word, exact names first', () => {
    const entries = [
      { project: 'web', stream: 'nginx-proxy', tags: ['1'] },
      { project: 'base', stream: 'nginx', tags: ['1.27', 'latest'] },
      { project: 'base', stream: 'ruby', tags: ['3.3'] },
    ];
    assert.deepEqual(searchStreams(entries, 'nginx').map((e) => e.stream), ['nginx', 'nginx-proxy']);
    assert.deepEqual(searchStreams(entries, 'base 3.3').map((e) => e.stream), ['ruby']);
    assert.deepEqual(searchStreams(entries, '  '), []);
  });
});
