import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { errorFromResponse } from './api-client.ts';
import { formatAge, formatList, formatObject, formatTable } from './output.ts';
import type { Column } from './output.ts';
import { formatWhoCan, ROLE_BINDING_COLUMNS, subjectPathSegments, userSubject } from './policy-commands.ts';
import { roleBindingSchema, whoCanSchema } from './resources.ts';
import { parseDuration } from './serviceaccount-commands.ts';

interface Row {
  name: string;
  size: string;
  note: string;
}
const COLUMNS: Column<Row>[] = [
  { header: 'name', value: (r) => r.name },
  { header: 'size', value: (r) => r.size },
  { header: 'note', value: (r) => r.note, wide: true },
];
const ROWS: Row[] = [
  { name: 'a', size: '1', note: 'x' },
  { name: 'longer-name', size: '12345', note: 'multi\nline' },
];

describe('tables', () => {
  test('align columns three spaces apart under upper-case headers, without trailing blanks', () => {
    assert.equal(formatTable(COLUMNS, ROWS), ['NAME          SIZE', 'a             1', 'longer-name   12345', ''].join('\n'));
  });

  test('-o wide adds the wide columns; a newline in a value stays on its row', () => {
    assert.equal(formatTable(COLUMNS, ROWS, true), ['NAME          SIZE    NOTE', 'a             1       x', 'longer-name   12345   multi line', ''].join('\n'));
  });

  test('an empty list prints nothing as a table, an empty List as json/yaml', () => {
    assert.equal(formatList(undefined, 'RowList', COLUMNS, []), '');
    assert.deepEqual(JSON.parse(formatList('json', 'RowList', COLUMNS, [])), { apiVersion: 'berth.dev/v1', kind: 'RowList', metadata: {}, items: [] });
  });

  test('json and yaml print the objects as given, in a List', () => {
    const json = JSON.parse(formatList('json', 'RowList', COLUMNS, ROWS)) as { items: Row[]; kind: string };
    assert.equal(json.kind, 'RowList');
    assert.deepEqual(json.items, ROWS);
    const yaml = parse(formatList('yaml', 'RowList', COLUMNS, ROWS)) as { items: Row[] };
    assert.deepEqual(yaml.items, ROWS);
    const first: Row = { name: 'one', size: '1', note: '' };
    assert.deepEqual(JSON.parse(formatObject('json', COLUMNS, first)), first);
  });

  test('role bindings show users, groups and service accounts by kind', () => {
    const binding = roleBindingSchema.parse({
      kind: 'RoleBinding',
      metadata: { name: 'registry-viewer', namespace: 'p' },
      roleRef: { kind: 'ClusterRole', name: 'registry-viewer' },
      subjects: [
        { kind: 'User', name: 'bob' },
        { kind: 'User', name: 'carol' },
        { kind: 'Group', name: 'system:unauthenticated' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'p' },
      ],
      extra: 'kept',
    });
    assert.equal(
      formatList('wide', 'RoleBindingList', ROLE_BINDING_COLUMNS, [binding]),
      [
        'NAME              ROLE                          USERS       GROUPS                   SERVICE ACCOUNTS',
        'registry-viewer   ClusterRole/registry-viewer   bob,carol   system:unauthenticated   system:serviceaccount:p:ci',
        '',
      ].join('\n'),
    );
    // Fields the CLI does not know survive into -o json.
    assert.equal((JSON.parse(formatObject('json', ROLE_BINDING_COLUMNS, binding)) as { extra: string }).extra, 'kept');
  });

  test("who-can prints oc's layout", () => {
    const answer = whoCanSchema.parse({ kind: 'WhoCan', verb: 'pull', namespace: 'p', users: ['alice', 'bob'], groups: [], serviceAccounts: ['system:serviceaccount:p:ci'] });
    assert.equal(
      formatWhoCan(undefined, 'pull', 'p', answer),
      [
        'Namespace: p',
        'Verb:      pull',
        '',
        'Users:             alice',
        '                   bob',
        '',
        'Groups:            <none>',
        '',
        'Service accounts:  system:serviceaccount:p:ci',
        '',
      ].join('\n'),
    );
  });
});

describe('values', () => {
  test('ages as kubectl prints them', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    assert.equal(formatAge('2026-01-09T23:59:15Z', now), '45s');
    assert.equal(formatAge('2026-01-09T23:00:00Z', now), '60m');
    assert.equal(formatAge('2026-01-09T00:00:00Z', now), '24h');
    assert.equal(formatAge('2026-01-01T00:00:00Z', now), '9d');
    assert.equal(formatAge(undefined, now), '<unknown>');
    assert.equal(formatAge('yesterday', now), '<unknown>');
  });

  test('durations', () => {
    assert.equal(parseDuration('24h'), 86_400);
    assert.equal(parseDuration('1h30m'), 5_400);
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('7d'), 604_800);
    for (const bad of ['', '24', 'h', '1.5h', '-1h', '0s', '1w']) assert.throws(() => parseDuration(bad), /invalid duration/, bad);
  });

  test('subjects: system:serviceaccount:P:NAME is a service account, deleted by its binding name P:NAME', () => {
    assert.deepEqual(userSubject('alice'), { kind: 'User', name: 'alice' });
    const sa = userSubject('system:serviceaccount:p:ci');
    assert.deepEqual(sa, { kind: 'ServiceAccount', name: 'ci', namespace: 'p' });
    assert.deepEqual(subjectPathSegments(sa), ['ServiceAccount', 'p:ci']);
    assert.throws(() => userSubject('system:serviceaccount:p'), /invalid service account/);
    assert.throws(() => userSubject('bad name'), /invalid user name/);
  });
});

describe('server errors', () => {
  test('a Status body gives its message and reason', () => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'project "p" not found', reason: 'NotFound', code: 404 });
    const error = errorFromResponse('GET', 'https://h/apis/berth.dev/v1/projects/p', 404, body);
    assert.equal(error.message, 'project "p" not found');
    assert.equal(error.reason, 'NotFound');
    assert.equal(error.status, 404);
  });

  test('a 429 says when to retry', () => {
    const body = JSON.stringify({ kind: 'Status', message: 'too many failed logins: try again later', reason: 'TooManyRequests', code: 429, details: { retryAfterSeconds: 42 } });
    assert.equal(errorFromResponse('GET', 'https://h/apis/berth.dev/v1/projects', 429, body).message, 'too many failed logins: try again later (retry in 42 s)');
  });

  test('an OAuth error body gives its description', () => {
    const error = errorFromResponse('POST', 'https://h/oauth/token', 400, JSON.stringify({ error: 'invalid_grant', error_description: 'invalid user name or password' }));
    assert.equal(error.message, 'invalid user name or password');
    assert.equal(error.reason, 'BadRequest');
  });

  test('anything else names the request and status', () => {
    const error = errorFromResponse('GET', 'https://h/apis/berth.dev/v1/users/~', 502, '<html>bad gateway</html>');
    assert.equal(error.message, 'GET /apis/berth.dev/v1/users/~: the server answered 502 without an error message');
  });
});
