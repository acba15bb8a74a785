import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, CliError } from './cli-errors.ts';
import { importEvent, ImportProgressView } from './imagestream-progress.ts';
import type { ProgressOutput } from './imagestream-progress.ts';

function collector(isTTY: boolean): ProgressOutput & { text: string } {
  const out = { text: '', isTTY, write: (chunk: string) => (out.text += chunk) };
  return out;
}

const where = { method: 'POST', url: 'https://registry.test/apis/berth.dev/v1/namespaces/p/imagestreams/app/import' };
const stream = { apiVersion: 'berth.dev/v1', kind: 'ImageStream', metadata: { name: 'app', namespace: 'p' }, status: { tags: [] }, importResult: { tagsFound: 1, imported: [], failed: [] } };

describe('import progress', () => {
  it('prints tags found and each manifest fetched as plain lines off a terminal', () => {
    const out = collector(false);
    const view = new ImportProgressView(out);
    assert.equal(importEvent({ type: 'progress', phase: 'tags', found: 3 }, view, where), undefined);
    for (const [done, tag] of [[1, '3.19'], [2, '3.20'], [3, 'edge']] as const) importEvent({ type: 'progress', phase: 'manifest', done, total: 3, tag }, view, where);
    view.finish();
    assert.equal(out.text, [
      'Importing: 3 tags found',
      'Importing: 1/3 manifests fetched (3.19)',
      'Importing: 2/3 manifests fetched (3.20)',
      'Importing: 3/3 manifests fetched (edge)',
      '',
    ].join('\n'));
  });

  it('keeps a long import to about a dozen lines off a terminal, the last one included', () => {
    const out = collector(false);
    const view = new ImportProgressView(out);
    view.update({ type: 'progress', phase: 'tags', found: 1 });
    for (let done = 1; done <= 500; done++) view.update({ type: 'progress', phase: 'manifest', done, total: 500, tag: `t${done}` });
    const lines = out.text.trimEnd().split('\n');
    assert.equal(lines[0], 'Importing: 1 tag found');
    assert.ok(lines.length <= 13, `${lines.length} lines`);
    assert.equal(lines.at(-1), 'Importing: 500/500 manifests fetched (t500)');
  });

  it('rewrites one line on a terminal and ends it', () => {
    const out = collector(true);
    const view = new ImportProgressView(out);
    view.update({ type: 'progress', phase: 'tags', found: 2 });
    view.update({ type: 'progress', phase: 'manifest', done: 1, total: 2, tag: 'a' });
    assert.equal(out.text, '\r\x1b[KImporting: 2 tags found\n\r\x1b[KImporting: 1/2 manifests fetched (a)');
    view.finish();
    assert.ok(out.text.endsWith('(a)\n'), 'an open line is ended');
    view.update({ type: 'progress', phase: 'manifest', done: 2, total: 2, tag: 'b' });
    view.finish();
    assert.ok(out.text.endsWith('\r\x1b[KImporting: 2/2 manifests fetched (b)\n'));
  });

  it('returns the stream of a result line (or of a server that answers the stream alone); an error line is the Status as an ApiError', () => {
    const view = new ImportProgressView(collector(false));
    assert.equal(importEvent({ type: 'result', object: stream }, view, where)?.metadata.name, 'app');
    assert.equal(importEvent(stream, view, where)?.importResult?.tagsFound, 1);
    assert.throws(
      () => importEvent({ type: 'error', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Invalid', code: 422, message: 'invalid --from: bad' } }, view, where),
      (error: unknown) => error instanceof ApiError && error.status === 422 && error.reason === 'Invalid' && error.message === 'invalid --from: bad',
    );
    assert.throws(() => importEvent({ type: 'surprise' }, view, where), (error: unknown) => error instanceof CliError && error.code === 'protocol');
  });
});
