import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openMetadata } from '../metadata/open-metadata.ts';
import type { Metadata } from '../metadata/stores.ts';
import { ListingService } from './listing-service.ts';

describe('ListingService.catalog', () => {
  let metadata: Metadata;
  let listing: ListingService;

  before(async () => {
    metadata = await openMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    for (const project of ['a', 'b', 'c']) {
      for (let i = 0; i < 5; i++) await metadata.repositories.ensureRepository(`${project}/r${i}`, project, 1);
    }
    listing = new ListingService({ metadata });
  });
  after(() => metadata.close());

  it('reads only the projects in the caller\'s scope', async () => {
    const asked: string[] = [];
    const everything = async (name: string) => {
      asked.push(name);
      return true;
    };
    const page = await listing.catalog(100, undefined, everything, { all: false, projects: ['b', 'c'] });
    assert.deepEqual(page.names, ['b/r0', 'b/r1', 'b/r2', 'b/r3', 'b/r4', 'c/r0', 'c/r1', 'c/r2', 'c/r3', 'c/r4']);
    assert.ok(!asked.some((name) => name.startsWith('a/')), 'project a was never read');
    assert.deepEqual((await listing.catalog(100, undefined, everything, { all: false, projects: [] })).names, []);
  });

  it('pages through a scope with cursors, and still asks about each repository', async () => {
    const hidden = new Set(['b/r1']);
    const visible = async (name: string) => !hidden.has(name);
    const first = await listing.catalog(2, undefined, visible, { all: false, projects: ['b'] });
    assert.deepEqual(first, { names: ['b/r0', 'b/r2'], next: 'b/r2' });
    const second = await listing.catalog(2, first.next, visible, { all: false, projects: ['b'] });
    assert.deepEqual(second, { names: ['b/r3', 'b/r4'] });
  });

  it('walks every repository for a registry-wide scope', async () => {
    const page = await listing.catalog(20, 'a/r3', async () => true, { all: true });
    assert.equal(page.names.length, 11);
    assert.equal(page.names[0], 'a/r4');
  });
});
