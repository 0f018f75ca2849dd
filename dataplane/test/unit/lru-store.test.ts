import test from 'ava';
import { createLocalStore } from '../../src/local/create-local-store.ts';
import type { LocalStoreOptions } from '../../src/local/local-store.ts';
import { LruStore } from '../../src/local/lru-store.ts';
import { ONE_LETTER_KEY_COST, entry, localStoreContract, present } from './local-store-contract.ts';

const lruStore = localStoreContract('lru', (options) => new LruStore(options));

test('capacity by entries: the least recently used entry is dropped and reported once', (t) => {
  const { store, evictions } = lruStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.set('c', entry(1));
  t.is(store.size, 2);
  t.is(store.peek('a'), undefined);
  t.truthy(store.peek('b'));
  t.truthy(store.peek('c'));
  t.deepEqual(evictions, ['capacity']);
});

test('a read makes an entry recently used, so the other one goes', (t) => {
  const { store } = lruStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.get('a');
  store.set('c', entry(1));
  t.truthy(store.peek('a'));
  t.is(store.peek('b'), undefined);
});

test('capacity by bytes: as many least recently used entries go as needed', (t) => {
  const { store, evictions } = lruStore({ maxBytes: 3 * ONE_LETTER_KEY_COST + 30 });
  store.set('a', entry(10));
  store.set('b', entry(10));
  store.set('c', entry(10));
  t.is(store.size, 3);
  store.set('d', entry(25));
  t.deepEqual(evictions, ['capacity', 'capacity']);
  t.deepEqual(present(store, ['a', 'b', 'c', 'd']), [false, false, true, true]);
  t.is(store.bytes, 2 * ONE_LETTER_KEY_COST + 35);
});

test('createLocalStore builds the store of the policy', (t) => {
  t.true(createLocalStore({ maxEntries: 1, maxBytes: 1_000, policy: 'lru' }) instanceof LruStore);
});

test('createLocalStore names the bad option', (t) => {
  const valid: LocalStoreOptions = { maxEntries: 1, maxBytes: 1_000, policy: 'lru' };
  const cases: [Partial<Record<keyof LocalStoreOptions, unknown>>, RegExp][] = [
    [{ maxEntries: 0 }, /maxEntries: expected a positive integer, got 0/],
    [{ maxEntries: 1.5 }, /maxEntries/],
    [{ maxBytes: -1 }, /maxBytes: expected a positive integer, got -1/],
    [{ maxBytes: Number.NaN }, /maxBytes/],
    [{ maxBytes: '10' }, /maxBytes/],
    [{ policy: 'fifo' }, /policy: expected "lru" or "lfu", got "fifo"/],
  ];
  for (const [override, message] of cases) {
    const options = { ...valid, ...override } as LocalStoreOptions;
    t.throws(() => createLocalStore(options), { message }, JSON.stringify(override));
  }
});
