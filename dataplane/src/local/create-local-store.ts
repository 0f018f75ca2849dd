import { LfuStore } from './lfu-store.ts';
import type { LocalStore, LocalStoreOptions } from './local-store.ts';
import { LruStore } from './lru-store.ts';

/** Builds the local store for `options.policy`, after checking the options. */
export function createLocalStore(options: LocalStoreOptions): LocalStore {
  validateLocalStoreOptions(options);
  switch (options.policy) {
    case 'lru':
      return new LruStore(options);
    case 'lfu':
      return new LfuStore(options);
  }
}

/** Throws an Error naming the first bad option; the options may come from untyped configuration. */
export function validateLocalStoreOptions(options: LocalStoreOptions): void {
  requirePositiveInteger('maxEntries', options.maxEntries);
  requirePositiveInteger('maxBytes', options.maxBytes);
  const policy: unknown = options.policy;
  if (policy !== 'lru' && policy !== 'lfu') {
    throw new Error(`Invalid local store option policy: expected "lru" or "lfu", got ${describe(policy)}`);
  }
}

function requirePositiveInteger(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new Error(
      `Invalid local store option ${name}: expected a positive integer, got ${describe(value)}`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
