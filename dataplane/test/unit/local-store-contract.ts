import test from 'ava';
import { ENTRY_OVERHEAD_BYTES, entrySize } from '../../src/local/local-store.ts';
import type {
  EvictionReason,
  LocalEntry,
  LocalStore,
  LocalStoreOptions,
} from '../../src/local/local-store.ts';

/** A LocalStore as the tests see it: with `peek`, which reads without counting a use or dropping anything. */
export type StoreUnderTest = LocalStore & { peek(key: string): LocalEntry | undefined };

/** Builds the store under test from everything but the policy, which the implementation fixes. */
export type CreateStore<S extends StoreUnderTest> = (options: Omit<LocalStoreOptions, 'policy'>) => S;

const FAR_FUTURE = 1_000_000;

/** An entry whose value is `valueBytes` long; one-letter keys make it cost valueBytes + 98 bytes. */
export function entry(valueBytes: number, expiresAt = FAR_FUTURE): LocalEntry {
  return { value: Buffer.alloc(valueBytes, 'x'), expiresAt, writtenAt: 0 };
}

export const ONE_LETTER_KEY_COST = 2 + ENTRY_OVERHEAD_BYTES;

/** A roomy store on an injected clock that starts at 0, recording every eviction it reports. */
function storeFixture<S extends StoreUnderTest>(
  create: CreateStore<S>,
  limits: Partial<Omit<LocalStoreOptions, 'policy'>> = {},
) {
  const clock = { now: 0 };
  const evictions: EvictionReason[] = [];
  const store = create({
    maxEntries: 100,
    maxBytes: 1_000_000,
    onEvict: (reason) => evictions.push(reason),
    now: () => clock.now,
    ...limits,
  });
  return { store, clock, evictions };
}

/** Which keys the store holds, in the order given, without counting a use. */
export function present(store: StoreUnderTest, keys: string[]): boolean[] {
  return keys.map((key) => store.peek(key) !== undefined);
}

/**
 * Registers the tests every LocalStore must pass whatever its eviction policy, titled `<policy>: …`.
 * Call it synchronously at the top level of a test file. Returns `storeFixture` bound to `create`,
 * for the file's own, policy-specific tests.
 */
export function localStoreContract<S extends StoreUnderTest>(
  policy: LocalStoreOptions['policy'],
  create: CreateStore<S>,
) {
  const fixture = (limits: Partial<Omit<LocalStoreOptions, 'policy'>> = {}) => storeFixture(create, limits);

  test(`${policy}: a stored entry is returned as stored, an absent key misses`, (t) => {
    const { store } = fixture();
    const stored = entry(3);
    t.true(store.set('a', stored));
    t.is(store.get('a'), stored);
    t.is(store.get('b'), undefined);
    t.is(store.size, 1);
    t.is(store.bytes, entrySize('a', stored));
  });

  test(`${policy}: an overwrite counts as a use`, (t) => {
    const { store } = fixture({ maxEntries: 2 });
    store.set('a', entry(1));
    store.set('b', entry(1));
    store.set('a', entry(2));
    store.set('c', entry(1));
    t.is(store.peek('a')?.value.length, 2);
    t.is(store.peek('b'), undefined);
  });

  test(`${policy}: peek counts no use`, (t) => {
    const { store } = fixture({ maxEntries: 2 });
    store.set('a', entry(1));
    store.set('b', entry(1));
    store.peek('a');
    store.set('c', entry(1));
    t.is(store.peek('a'), undefined);
  });

  test(`${policy}: an overwrite that grows drops other entries, never itself`, (t) => {
    const { store, evictions } = fixture({ maxBytes: 2 * ONE_LETTER_KEY_COST + 20 });
    store.set('a', entry(10));
    store.set('b', entry(10));
    t.true(store.set('b', entry(20)));
    t.is(store.peek('a'), undefined);
    t.is(store.peek('b')?.value.length, 20);
    t.deepEqual(evictions, ['capacity']);
  });

  test(`${policy}: an entry larger than maxBytes is refused, and removes the older value of its key`, (t) => {
    const { store, evictions } = fixture({ maxBytes: ONE_LETTER_KEY_COST + 10 });
    t.true(store.set('a', entry(10)));
    t.false(store.set('a', entry(11)));
    t.is(store.get('a'), undefined);
    t.is(store.size, 0);
    t.is(store.bytes, 0);
    t.deepEqual(evictions, []);
  });

  test(`${policy}: an entry already expired is refused, and removes the older value of its key`, (t) => {
    const { store, clock } = fixture();
    clock.now = 500;
    t.true(store.set('a', entry(1)));
    t.false(store.set('a', entry(1, 500)));
    t.is(store.get('a'), undefined);
    t.is(store.size, 0);
  });

  test(`${policy}: expiry follows the injected clock, and a read of an expired entry reports it`, (t) => {
    const { store, clock, evictions } = fixture();
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

  test(`${policy}: an expired entry dropped to make room is reported as expired`, (t) => {
    const { store, clock, evictions } = fixture({ maxEntries: 2 });
    store.set('a', entry(1, 100));
    store.set('b', entry(1));
    clock.now = 100;
    store.set('c', entry(1));
    t.deepEqual(evictions, ['expired']);
  });

  test(`${policy}: delete, clear and overwrite report no eviction`, (t) => {
    const { store, evictions } = fixture();
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

  test(`${policy}: onEvict may call back into the store`, (t) => {
    const seen: (number | undefined)[] = [];
    const store: S = create({
      maxEntries: 1,
      maxBytes: 10_000,
      onEvict: () => seen.push(store.peek('b')?.value.length),
    });
    store.set('a', entry(1, Number.MAX_SAFE_INTEGER));
    store.set('b', entry(2, Number.MAX_SAFE_INTEGER));
    t.deepEqual(seen, [2]);
  });

  return fixture;
}
