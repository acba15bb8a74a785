/**
 * A doc comment belongs to the declaration right under it. Two doc comments
 * in a row mean the first documents nothing (or, once something is slipped
 * in between, the wrong declaration): editors and TSDoc show only the second.
 * Checked over the access-control code: authz/, identity/ and the resource
 * API's own routes.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const SRC = join(import.meta.dirname, '..');
const FOLDERS = ['authz', 'identity', 'http/api'];

/** The 1-based lines of each doc comment that is followed, on the next line, by another doc comment. */
function orphanedDocComments(text: string): number[] {
  const lines = text.split('\n');
  const found: number[] = [];
  let start: number | undefined;
  for (const [index, line] of lines.entries()) {
    const trimmed = line.trim();
    if (start === undefined && trimmed.startsWith('/**')) start = index;
    if (start === undefined || !trimmed.endsWith('*/')) continue;
    if (lines[index + 1]?.trim().startsWith('/**') === true) found.push(start + 1);
    start = undefined;
  }
  return found;
}

describe('doc comments of the access-control code', () => {
  it('finds a doc comment stacked on another one', () => {
    assert.deepEqual(orphanedDocComments('/**\n * Groups.\n */\n/** Names. */\nfunction names() {}\n\n/** Fine. */\nfunction fine() {}\n'), [1]);
    assert.deepEqual(orphanedDocComments('/** File. */\n\n/** A. */\nconst a = 1;\n'), []);
  });

  it('each documents the declaration right under it, not another doc comment', () => {
    const problems: string[] = [];
    for (const folder of FOLDERS) {
      for (const entry of readdirSync(join(SRC, folder), { withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
        const file = join(folder, entry.name);
        for (const line of orphanedDocComments(readFileSync(join(SRC, file), 'utf8'))) problems.push(`src/${file}:${line}`);
      }
    }
    assert.deepEqual(problems, [], 'doc comments directly followed by another doc comment');
  });
});
