import test from 'ava';
import { createLocalStore } from '../../src/local/create-local-store.ts';
import { ENTRY_OVERHEAD_BYTES, entrySize } from '../../src/local/local-store.ts';
import type { EvictionReason, LocalEntry, LocalStoreOptions } from '../../src/local/local-store.ts';
import { LruStore } from '../../src/local/lru-store.ts';

const FAR_FUTURE = 1_000_000;

/** An entry whose value is `valueBytes` long; one-letter keys make it cost valueBytes + 98 bytes. */
function entry(valueBytes: number, expiresAt = FAR_FUTURE): LocalEntry {
  return { value: Buffer.alloc(valueBytes, 'x'), expiresAt, writtenAt: 0 };
}

const ONE_LETTER_KEY_COST = 2 + ENTRY_OVERHEAD_BYTES;

function lruStore(limits: Partial<LocalStoreOptions> = {}) {
  const clock = { now: 0 };
  const evictions: EvictionReason[] = [];
  const store = new LruStore({
    maxEntries: 100,
    maxBytes: 1_000_000,
    onEvict: (reason) => evictions.push(reason),
    now: () => clock.now,
    ...limits,
  });
  return { store, clock, evictions };
}

test('a stored entry is returned as stored, an absent key misses', (t) => {
  const { store } = lruStore();
  const stored = entry(3);
  t.true(store.set('a', stored));
  t.is(store.get('a'), stored);
  t.is(store.get('b'), undefined);
  t.is(store.size, 1);
  t.is(store.bytes, entrySize('a', stored));
});

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

test('an overwrite makes an entry recently used', (t) => {
  const { store } = lruStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.set('a', entry(2));
  store.set('c', entry(1));
  t.is(store.peek('a')?.value.length, 2);
  t.is(store.peek('b'), undefined);
});

test('peek counts no use', (t) => {
  const { store } = lruStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.peek('a');
  store.set('c', entry(1));
  t.is(store.peek('a'), undefined);
});

test('capacity by bytes: as many least recently used entries go as needed', (t) => {
  const { store, evictions } = lruStore({ maxBytes: 3 * ONE_LETTER_KEY_COST + 30 });
  store.set('a', entry(10));
  store.set('b', entry(10));
  store.set('c', entry(10));
  t.is(store.size, 3);
  store.set('d', entry(25));
  t.deepEqual(evictions, ['capacity', 'capacity']);
  t.deepEqual(
    ['a', 'b', 'c', 'd'].map((key) => store.peek(key) !== undefined),
    [false, false, true, true],
  );
  t.is(store.bytes, 2 * ONE_LETTER_KEY_COST + 35);
});

test('an overwrite that grows drops other entries, never itself', (t) => {
  const { store, evictions } = lruStore({ maxBytes: 2 * ONE_LETTER_KEY_COST + 20 });
  store.set('a', entry(10));
  store.set('b', entry(10));
  t.true(store.set('b', entry(20)));
  t.is(store.peek('a'), undefined);
  t.is(store.peek('b')?.value.length, 20);
  t.deepEqual(evictions, ['capacity']);
});

test('an entry larger than maxBytes is refused, and removes the older value of its key', (t) => {
  const { store, evictions } = lruStore({ maxBytes: ONE_LETTER_KEY_COST + 10 });
  t.true(store.set('a', entry(10)));
  t.false(store.set('a', entry(11)));
  t.is(store.get('a'), undefined);
  t.is(store.size, 0);
  t.is(store.bytes, 0);
  t.deepEqual(evictions, []);
});

test('an entry already expired is refused, and removes the older value of its key', (t) => {
  const { store, clock } = lruStore();
  clock.now = 500;
  t.true(store.set('a', entry(1)));
  t.false(store.set('a', entry(1, 500)));
  t.is(store.get('a'), undefined);
  t.is(store.size, 0);
});

test('expiry follows the injected clock, and a read of an expired entry reports it', (t) => {
  const { store, clock, evictions } = lruStore();
  store.set('a', entry(1, 1_000));
  clock.now = 999;
  t.truthy(store.get('a'));
  clock.now = 1_000;
  t.is(store.peek('a'), undefined);
  t.is(store.size, 1, 'peek drops nothing');
  t.is(store.get('a'), undefined);
  t.is(store.size, 0);
  t.deepEqual(evictions, ['expired']);
});

test('an expired entry dropped to make room is reported as expired', (t) => {
  const { store, clock, evictions } = lruStore({ maxEntries: 2 });
  store.set('a', entry(1, 100));
  store.set('b', entry(1));
  clock.now = 100;
  store.set('c', entry(1));
  t.deepEqual(evictions, ['expired']);
});

test('delete, clear and overwrite report no eviction', (t) => {
  const { store, evictions } = lruStore();
  store.set('a', entry(1));
  store.set('a', entry(2));
  store.set('b', entry(1));
  t.true(store.delete('a'));
  t.false(store.delete('a'));
  store.clear();
  t.is(store.size, 0);
  t.is(store.bytes, 0);
  t.deepEqual(evictions, []);
});

test('onEvict may call back into the store', (t) => {
  const seen: (number | undefined)[] = [];
  const store: LruStore = new LruStore({
    maxEntries: 1,
    maxBytes: 10_000,
    onEvict: () => seen.push(store.peek('b')?.value.length),
  });
  store.set('a', entry(1, Number.MAX_SAFE_INTEGER));
  store.set('b', entry(2, Number.MAX_SAFE_INTEGER));
  t.deepEqual(seen, [2]);
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
