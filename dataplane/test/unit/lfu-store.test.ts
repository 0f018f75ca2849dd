import test from 'ava';
import { createLocalStore } from '../../src/local/create-local-store.ts';
import { LfuStore } from '../../src/local/lfu-store.ts';
import { ENTRY_OVERHEAD_BYTES, entrySize } from '../../src/local/local-store.ts';
import type { EvictionReason, LocalEntry, LocalStoreOptions } from '../../src/local/local-store.ts';

const FAR_FUTURE = 1_000_000;

/** An entry whose value is `valueBytes` long; one-letter keys make it cost valueBytes + 98 bytes. */
function entry(valueBytes: number, expiresAt = FAR_FUTURE): LocalEntry {
  return { value: Buffer.alloc(valueBytes, 'x'), expiresAt, writtenAt: 0 };
}

const ONE_LETTER_KEY_COST = 2 + ENTRY_OVERHEAD_BYTES;

function lfuStore(limits: Partial<LocalStoreOptions> = {}) {
  const clock = { now: 0 };
  const evictions: EvictionReason[] = [];
  const store = new LfuStore({
    maxEntries: 100,
    maxBytes: 1_000_000,
    onEvict: (reason) => evictions.push(reason),
    now: () => clock.now,
    ...limits,
  });
  return { store, clock, evictions };
}

function present(store: LfuStore, keys: string[]): boolean[] {
  return keys.map((key) => store.peek(key) !== undefined);
}

test('a stored entry is returned as stored, an absent key misses', (t) => {
  const { store } = lfuStore();
  const stored = entry(3);
  t.true(store.set('a', stored));
  t.is(store.get('a'), stored);
  t.is(store.get('b'), undefined);
  t.is(store.size, 1);
  t.is(store.bytes, entrySize('a', stored));
});

test('the hot key stays and the cold one goes, even if the cold one was used last', (t) => {
  const { store, evictions } = lfuStore({ maxEntries: 2 });
  store.set('hot', entry(1));
  store.get('hot');
  store.get('hot');
  store.set('cold', entry(1));
  store.get('cold');
  store.set('new', entry(1));
  t.deepEqual(present(store, ['hot', 'cold', 'new']), [true, false, true]);
  t.deepEqual(evictions, ['capacity']);
});

test('the entry being inserted is never the victim, though it has the lowest frequency', (t) => {
  const { store } = lfuStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.set('c', entry(1));
  store.set('d', entry(1));
  t.deepEqual(present(store, ['a', 'b', 'c', 'd']), [false, false, true, true]);
});

test('ties within the lowest frequency go least recently used first', (t) => {
  const { store } = lfuStore({ maxEntries: 3 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.set('c', entry(1));
  store.get('b');
  store.get('a');
  // a and b are at frequency 2, c at 1: c goes first.
  store.set('d', entry(1));
  t.deepEqual(present(store, ['a', 'b', 'c', 'd']), [true, true, false, true]);
  store.get('d');
  // a, b and d are at 2 now; b reached 2 first.
  store.set('e', entry(1));
  t.deepEqual(present(store, ['a', 'b', 'd', 'e']), [true, false, true, true]);
});

test('an overwrite counts as a use', (t) => {
  const { store } = lfuStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.set('a', entry(2));
  store.set('c', entry(1));
  t.is(store.peek('a')?.value.length, 2);
  t.is(store.peek('b'), undefined);
});

test('peek counts no use', (t) => {
  const { store } = lfuStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.peek('a');
  store.set('c', entry(1));
  t.is(store.peek('a'), undefined);
});

test('capacity by bytes: as many least frequently used entries go as needed', (t) => {
  const { store, evictions } = lfuStore({ maxBytes: 3 * ONE_LETTER_KEY_COST + 30 });
  store.set('a', entry(10));
  store.set('b', entry(10));
  store.set('c', entry(10));
  store.get('a');
  store.set('d', entry(25));
  t.deepEqual(evictions, ['capacity', 'capacity']);
  t.deepEqual(present(store, ['a', 'b', 'c', 'd']), [true, false, false, true]);
  t.is(store.bytes, 2 * ONE_LETTER_KEY_COST + 35);
});

test('an overwrite that grows drops hotter entries rather than itself', (t) => {
  const { store, evictions } = lfuStore({ maxBytes: 2 * ONE_LETTER_KEY_COST + 20 });
  store.set('a', entry(10));
  store.set('b', entry(10));
  store.get('b');
  store.get('b');
  // a climbs to frequency 2, alone in the lowest bucket; b (frequency 3) has to go.
  t.true(store.set('a', entry(20)));
  t.deepEqual(present(store, ['a', 'b']), [true, false]);
  t.deepEqual(evictions, ['capacity']);
  t.is(store.bytes, ONE_LETTER_KEY_COST + 20);
});

test('an entry larger than maxBytes is refused, and removes the older value of its key', (t) => {
  const { store, evictions } = lfuStore({ maxBytes: ONE_LETTER_KEY_COST + 10 });
  t.true(store.set('a', entry(10)));
  t.false(store.set('a', entry(11)));
  t.is(store.get('a'), undefined);
  t.is(store.size, 0);
  t.is(store.bytes, 0);
  t.deepEqual(evictions, []);
});

test('an entry already expired is refused, and removes the older value of its key', (t) => {
  const { store, clock } = lfuStore();
  clock.now = 500;
  t.true(store.set('a', entry(1)));
  t.false(store.set('a', entry(1, 500)));
  t.is(store.get('a'), undefined);
  t.is(store.size, 0);
});

test('expiry follows the injected clock, and a read of an expired entry reports it', (t) => {
  const { store, clock, evictions } = lfuStore();
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
  const { store, clock, evictions } = lfuStore({ maxEntries: 2 });
  store.set('a', entry(1, 100));
  store.set('b', entry(1));
  clock.now = 100;
  store.set('c', entry(1));
  t.deepEqual(evictions, ['expired']);
});

test('delete, clear and overwrite report no eviction; a deleted key starts over at frequency 1', (t) => {
  const { store, evictions } = lfuStore({ maxEntries: 2 });
  store.set('a', entry(1));
  store.get('a');
  store.set('a', entry(2));
  t.true(store.delete('a'));
  t.false(store.delete('a'));
  t.deepEqual(evictions, []);
  store.set('a', entry(1));
  store.set('b', entry(1));
  store.get('b');
  store.set('c', entry(1));
  t.deepEqual(present(store, ['a', 'b', 'c']), [false, true, true]);
  store.clear();
  t.is(store.size, 0);
  t.is(store.bytes, 0);
  t.true(store.set('a', entry(1)));
  t.truthy(store.get('a'));
});

test('onEvict may call back into the store', (t) => {
  const seen: (number | undefined)[] = [];
  const store: LfuStore = new LfuStore({
    maxEntries: 1,
    maxBytes: 10_000,
    onEvict: () => seen.push(store.peek('b')?.value.length),
  });
  store.set('a', entry(1, Number.MAX_SAFE_INTEGER));
  store.set('b', entry(2, Number.MAX_SAFE_INTEGER));
  t.deepEqual(seen, [2]);
});

test('createLocalStore builds the store of the policy', (t) => {
  t.true(createLocalStore({ maxEntries: 1, maxBytes: 1_000, policy: 'lfu' }) instanceof LfuStore);
});
