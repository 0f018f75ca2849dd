import test from 'ava';
import { createLocalStore } from '../../src/local/create-local-store.ts';
import { LfuStore } from '../../src/local/lfu-store.ts';
import { ONE_LETTER_KEY_COST, entry, localStoreContract, present } from './local-store-contract.ts';

const lfuStore = localStoreContract('lfu', (options) => new LfuStore(options));

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

test('createLocalStore builds the store of the policy', (t) => {
  t.true(createLocalStore({ maxEntries: 1, maxBytes: 1_000, policy: 'lfu' }) instanceof LfuStore);
});
