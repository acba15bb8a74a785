import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from './lru-cache.ts';

describe('LruCache', () => {
  it('keeps at most maxEntries, evicting entries not used since they were last considered', () => {
    const cache = new LruCache<string, number>({ maxEntries: 3 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.get('a'), 1); // a was used: it survives the next eviction
    cache.set('d', 4);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('b'), undefined, 'the oldest unused entry went');
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.get('d'), 4);
  });

  it('bounds the total weight and refuses an entry heavier than the bound', () => {
    const cache = new LruCache<string, string>({ maxEntries: 100, maxWeight: 10 });
    cache.set('x', 'x', 6);
    cache.set('y', 'y', 6);
    assert.equal(cache.get('x'), undefined);
    assert.equal(cache.get('y'), 'y');
    cache.set('huge', 'h', 11);
    assert.equal(cache.get('huge'), undefined);
    assert.equal(cache.get('y'), 'y');
  });

  it('ends eviction even when every entry was hit', () => {
    const cache = new LruCache<number, number>({ maxEntries: 2 });
    cache.set(1, 1);
    cache.set(2, 2);
    cache.get(1);
    cache.get(2);
    cache.set(3, 3);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(3), 3);
  });

  it('deletes by predicate', () => {
    const cache = new LruCache<string, number>({ maxEntries: 10 });
    cache.set('r1\u0000a', 1);
    cache.set('r2\u0000a', 2);
    cache.deleteWhere((k) => k.startsWith('r1\u0000'));
    assert.equal(cache.get('r1\u0000a'), undefined);
    assert.equal(cache.get('r2\u0000a'), 2);
  });
});
