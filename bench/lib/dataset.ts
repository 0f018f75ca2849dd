// The benchmark's data: which keys exist, what each holds, and the key sequences the load tools
// replay (uniform or Zipf-skewed), all from a fixed seed so that every run asks the same things.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NAMESPACE = 'bench';
/** Keys written per value size. Fits the near cache (CACHE_LOCAL_CACHE_SIZE is raised for the runs). */
export const KEY_COUNT = 10_000;
/** Length of every replayed key sequence: the tools cycle through it. */
export const SEQUENCE_LENGTH = 20_000;
/** Batches per batch sequence. */
export const BATCH_SEQUENCE_LENGTH = 2_000;
/** Zipf exponent (YCSB's default skew). */
export const ZIPF_S = 0.99;
export const TTL_SECONDS = 3600;

export type Distribution = 'uniform' | 'zipf';
/** Which keys a workload asks for: written ones (hits) or never-written ones (misses). */
export type KeySet = 'hit' | 'miss';

export function keyName(valueSize: number, index: number): string {
  return `s${valueSize}-${String(index).padStart(5, '0')}`;
}

export function missKeyName(index: number): string {
  return `miss-${String(index).padStart(5, '0')}`;
}

/** The value stored under a key: the key and a separator repeated to the size, ASCII. */
export function valueFor(key: string, valueSize: number): Buffer {
  const unit = `${key}|`;
  return Buffer.from(unit.repeat(Math.ceil(valueSize / unit.length)).slice(0, valueSize), 'latin1');
}

/** Redis key of a cache key (storage-key.ts: `<namespace>:<key>`; bench keys need no escaping). */
export function storageKeyOf(key: string): string {
  return `${NAMESPACE}:${key}`;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Draws key indices in [0, n): uniform, or Zipf(s) over a shuffled ranking (hot keys spread out). */
export function indexSampler(distribution: Distribution, n: number, seed: number): () => number {
  const random = prng(seed);
  if (distribution === 'uniform') return () => Math.floor(random() * n);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank += 1) {
    total += 1 / (rank + 1) ** ZIPF_S;
    cdf[rank] = total;
  }
  const ranking = Array.from({ length: n }, (_, index) => index);
  const shuffle = prng(seed ^ 0x5bd1e995);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(shuffle() * (i + 1));
    [ranking[i], ranking[j]] = [ranking[j] as number, ranking[i] as number];
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cdf[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return ranking[low] as number;
  };
}

export interface KeyChoice {
  keySet: KeySet;
  distribution: Distribution;
  valueSize: number;
}

/** The replayed sequence of single keys for a workload. */
export function keySequence(choice: KeyChoice, length = SEQUENCE_LENGTH): string[] {
  const next = indexSampler(choice.distribution, KEY_COUNT, seedOf(choice));
  return Array.from({ length }, () =>
    choice.keySet === 'hit' ? keyName(choice.valueSize, next()) : missKeyName(next()),
  );
}

/** The replayed sequence of batches (distinct keys within a batch). */
export function batchSequence(choice: KeyChoice, batchSize: number): string[][] {
  const next = indexSampler(choice.distribution, KEY_COUNT, seedOf(choice) + batchSize);
  return Array.from({ length: BATCH_SEQUENCE_LENGTH }, () => {
    const batch = new Set<string>();
    while (batch.size < batchSize) {
      const index = next();
      batch.add(choice.keySet === 'hit' ? keyName(choice.valueSize, index) : missKeyName(index));
    }
    return [...batch];
  });
}

function seedOf(choice: KeyChoice): number {
  return (
    17 + choice.valueSize * 31 + (choice.distribution === 'zipf' ? 7 : 0) + (choice.keySet === 'miss' ? 3 : 0)
  );
}

/** Writes a work file (created once per name) and returns its path. */
export function workFile(dir: string, name: string, content: () => string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, content());
  return path;
}
