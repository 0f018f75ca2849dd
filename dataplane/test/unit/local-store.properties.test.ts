import assert from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { LfuStore } from '../../src/local/lfu-store.ts';
import { entrySize } from '../../src/local/local-store.ts';
import type { EvictionReason, LocalEntry } from '../../src/local/local-store.ts';
import { LruStore } from '../../src/local/lru-store.ts';

type Policy = 'lru' | 'lfu';

/** Fixed seed, so a failure replays; the failed assertion is printed with the counterexample. */
const RUNS = { numRuns: 200, seed: 12345, includeErrorInReport: true };

/** A small key space, so commands collide often. Each key costs 4 + 96 bytes on top of its value. */
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];

const key = fc.constantFrom(...KEYS);
const get = fc.record({ op: fc.constant('get' as const), key });
/** Entries cost 100 to 250 bytes against stores of 100 to 800: a few fit, some do not fit at all. */
const set = fc.record({
  op: fc.constant('set' as const),
  key,
  valueBytes: fc.nat({ max: 150 }),
  ttlMs: fc.integer({ min: -5, max: 80 }),
});
const remove = fc.record({ op: fc.constant('delete' as const), key });
const clear = fc.constant({ op: 'clear' as const });
const advance = fc.record({ op: fc.constant('advance' as const), ms: fc.nat({ max: 30 }) });
/** Long sequences (size 'max'; the default 'small' stops near 10 commands) so bounds are hit often. */
const sequenceOf = <T>(command: fc.Arbitrary<T>): fc.Arbitrary<T[]> =>
  fc.array(command, { maxLength: 80, size: 'max' });

interface Row {
  key: string;
  entry: LocalEntry;
  size: number;
  frequency: number;
  /** Logical time of the last get or set that counted as a use. */
  lastUse: number;
}

/** The store contract spelled out as plainly as possible: one array, O(n) everywhere. */
class ReferenceStore {
  readonly evictions: Record<EvictionReason, number> = { capacity: 0, expired: 0 };
  #rows: Row[] = [];
  #uses = 0;
  readonly #policy: Policy;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;

  constructor(policy: Policy, maxEntries: number, maxBytes: number, now: () => number) {
    this.#policy = policy;
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
    this.#now = now;
  }

  get size(): number {
    return this.#rows.length;
  }

  get bytes(): number {
    return this.#rows.reduce((sum, row) => sum + row.size, 0);
  }

  get(key: string): LocalEntry | undefined {
    const row = this.#find(key);
    if (row === undefined) return undefined;
    if (this.#isExpired(row)) {
      this.delete(key);
      this.evictions.expired++;
      return undefined;
    }
    this.#use(row);
    return row.entry;
  }

  peek(key: string): LocalEntry | undefined {
    const row = this.#find(key);
    return row === undefined || this.#isExpired(row) ? undefined : row.entry;
  }

  set(key: string, entry: LocalEntry): boolean {
    const size = entrySize(key, entry);
    if (size > this.#maxBytes || entry.expiresAt <= this.#now()) {
      this.delete(key);
      return false;
    }
    let row = this.#find(key);
    if (row === undefined) {
      row = { key, entry, size, frequency: 0, lastUse: 0 };
      this.#rows.push(row);
    }
    row.entry = entry;
    row.size = size;
    this.#use(row);
    while (this.size > this.#maxEntries || this.bytes > this.#maxBytes) {
      const kept = row;
      const victim = this.#rows.filter((other) => other !== kept).sort((a, b) => this.#compare(a, b))[0];
      assert.ok(victim, 'the model always has a victim');
      this.delete(victim.key);
      this.evictions[this.#isExpired(victim) ? 'expired' : 'capacity']++;
    }
    return true;
  }

  delete(key: string): boolean {
    const before = this.#rows.length;
    this.#rows = this.#rows.filter((row) => row.key !== key);
    return this.#rows.length < before;
  }

  clear(): void {
    this.#rows = [];
  }

  /** Eviction order: least recently used, or least frequently used and then least recently used. */
  #compare(a: Row, b: Row): number {
    if (this.#policy === 'lfu' && a.frequency !== b.frequency) return a.frequency - b.frequency;
    return a.lastUse - b.lastUse;
  }

  #use(row: Row): void {
    row.frequency++;
    row.lastUse = ++this.#uses;
  }

  #find(key: string): Row | undefined {
    return this.#rows.find((row) => row.key === key);
  }

  #isExpired(row: Row): boolean {
    return row.entry.expiresAt <= this.#now();
  }
}

interface Harness {
  store: LruStore | LfuStore;
  clock: { now: number };
  evictions: Record<EvictionReason, number>;
}

function harness(policy: Policy, maxEntries: number, maxBytes: number): Harness {
  const clock = { now: 1_000 };
  const evictions: Record<EvictionReason, number> = { capacity: 0, expired: 0 };
  const options = {
    maxEntries,
    maxBytes,
    onEvict: (reason: EvictionReason) => evictions[reason]++,
    now: () => clock.now,
  };
  const store = policy === 'lru' ? new LruStore(options) : new LfuStore(options);
  return { store, clock, evictions };
}

function entryAt(now: number, valueBytes: number, ttlMs: number): LocalEntry {
  return { value: Buffer.alloc(valueBytes, now % 256), expiresAt: now + ttlMs, writtenAt: now };
}

function evictionPolicyCorrectness(policy: Policy) {
  return fc.property(
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 100, max: 800 }),
    sequenceOf(
      fc.oneof(
        { arbitrary: get, weight: 10 },
        { arbitrary: set, weight: 8 },
        { arbitrary: remove, weight: 2 },
        { arbitrary: advance, weight: 3 },
        { arbitrary: clear, weight: 1 },
      ),
    ),
    (maxEntries, maxBytes, commands) => {
      const { store, clock, evictions } = harness(policy, maxEntries, maxBytes);
      const model = new ReferenceStore(policy, maxEntries, maxBytes, () => clock.now);
      for (const [step, command] of commands.entries()) {
        const at = `after command ${step}: ${JSON.stringify(command)}`;
        switch (command.op) {
          case 'get':
            assert.equal(store.get(command.key), model.get(command.key), at);
            break;
          case 'set': {
            const entry = entryAt(clock.now, command.valueBytes, command.ttlMs);
            assert.equal(store.set(command.key, entry), model.set(command.key, entry), at);
            break;
          }
          case 'delete':
            assert.equal(store.delete(command.key), model.delete(command.key), at);
            break;
          case 'clear':
            store.clear();
            model.clear();
            break;
          case 'advance':
            clock.now += command.ms;
            break;
        }
        for (const key of KEYS) assert.equal(store.peek(key), model.peek(key), `${at}, key ${key}`);
        assert.equal(store.size, model.size, at);
        assert.equal(store.bytes, model.bytes, at);
        assert.ok(store.size <= maxEntries && store.bytes <= maxBytes, at);
        assert.deepEqual(evictions, model.evictions, at);
      }
    },
  );
}

test('Property 6: Eviction Policy Correctness (lru)', (t) => {
  fc.assert(evictionPolicyCorrectness('lru'), RUNS);
  t.pass();
});

test('Property 6: Eviction Policy Correctness (lfu)', (t) => {
  fc.assert(evictionPolicyCorrectness('lfu'), RUNS);
  t.pass();
});

/** With room for every key, an entry is returned iff it was set, not deleted since, and now < expiresAt. */
function localCacheConsistency(policy: Policy) {
  return fc.property(
    sequenceOf(
      fc.oneof(
        { arbitrary: set, weight: 3 },
        { arbitrary: remove, weight: 1 },
        { arbitrary: advance, weight: 3 },
      ),
    ),
    (commands) => {
      const { store, clock, evictions } = harness(policy, KEYS.length, 1_000_000);
      const written = new Map<string, LocalEntry>();
      let expiredReads = 0;
      for (const [step, command] of commands.entries()) {
        const at = `after command ${step}: ${JSON.stringify(command)}`;
        switch (command.op) {
          case 'set': {
            const entry = entryAt(clock.now, command.valueBytes, command.ttlMs);
            const live = clock.now < entry.expiresAt;
            assert.equal(store.set(command.key, entry), live, at);
            if (live) written.set(command.key, entry);
            else written.delete(command.key);
            break;
          }
          case 'delete':
            assert.equal(store.delete(command.key), written.delete(command.key), at);
            break;
          case 'advance':
            clock.now += command.ms;
            break;
        }
        for (const key of KEYS) {
          const entry = written.get(key);
          const expected = entry !== undefined && clock.now < entry.expiresAt ? entry : undefined;
          assert.equal(store.peek(key), expected, `${at}, peek ${key}`);
          assert.equal(store.get(key), expected, `${at}, get ${key}`);
          if (entry !== undefined && expected === undefined) {
            // The read dropped it: it is gone for good, and was reported once.
            written.delete(key);
            expiredReads++;
          }
        }
        assert.deepEqual(evictions, { capacity: 0, expired: expiredReads }, at);
      }
    },
  );
}

test('Property 17: Local Cache Consistency (TTL)', (t) => {
  fc.assert(localCacheConsistency('lru'), RUNS);
  fc.assert(localCacheConsistency('lfu'), RUNS);
  t.pass();
});
