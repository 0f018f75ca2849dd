// In-process baseline for the local cache (dataplane/src/local/create-local-store.ts), run as a
// child process: get and set on a store holding KEY_COUNT entries, keys replayed from the same
// uniform or Zipf sequences as the load runs. Prints one JSON line: LocalStoreReport[].
//   node bench/local-store-bench.ts '<{"valueSize":64,"durationMs":1000}>'
import { createLocalStore } from '../dataplane/src/local/create-local-store.ts';
import type { LocalEntry } from '../dataplane/src/local/local-store.ts';
import { KEY_COUNT, keyName, keySequence, storageKeyOf, valueFor, type Distribution } from './lib/dataset.ts';

export interface LocalStoreReport {
  policy: 'lru' | 'lfu';
  op: 'get' | 'set';
  distribution: Distribution;
  opsPerSecond: number;
  nsPerOp: number;
}

const { valueSize, durationMs } = JSON.parse(process.argv[2] ?? '{}') as {
  valueSize: number;
  durationMs: number;
};
const expiresAt = Date.now() + 3_600_000;
const reports: LocalStoreReport[] = [];

/** Runs `body` over and over in chunks of `chunk` calls for about `ms`; returns calls per second. */
function timed(ms: number, chunk: number, body: (i: number) => void): number {
  let calls = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < chunk; i += 1) body(calls + i);
    calls += chunk;
    now = process.hrtime.bigint();
  }
  return calls / (Number(now - start) / 1e9);
}

for (const policy of ['lru', 'lfu'] as const) {
  const store = createLocalStore({ maxEntries: KEY_COUNT * 10, maxBytes: 512 * 1024 * 1024, policy });
  const entries: LocalEntry[] = [];
  for (let index = 0; index < KEY_COUNT; index += 1) {
    const key = keyName(valueSize, index);
    const entry = { value: valueFor(key, valueSize), writtenAt: Date.now(), expiresAt };
    entries.push(entry);
    store.set(storageKeyOf(key), entry);
  }
  for (const distribution of ['uniform', 'zipf'] as const) {
    const keys = keySequence({ keySet: 'hit', distribution, valueSize }).map(storageKeyOf);
    const mask = keys.length;
    let found = 0;
    timed(200, 1000, (i) => void store.get(keys[i % mask] as string)); // warm-up
    const gets = timed(durationMs, 1000, (i) => {
      if (store.get(keys[i % mask] as string) !== undefined) found += 1;
    });
    if (found === 0) throw new Error('local store: no hits');
    reports.push({ policy, op: 'get', distribution, opsPerSecond: gets, nsPerOp: 1e9 / gets });
    // Overwrites with an entry of the same size (which key's value it is does not matter here).
    const entry = entries[0] as LocalEntry;
    const sets = timed(durationMs, 1000, (i) => {
      store.set(keys[i % mask] as string, entry);
    });
    reports.push({ policy, op: 'set', distribution, opsPerSecond: sets, nsPerOp: 1e9 / sets });
  }
}
process.stdout.write(`${JSON.stringify(reports)}\n`);
