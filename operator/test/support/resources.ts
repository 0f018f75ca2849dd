// CacheNamespace objects for tests, as the API server would return them, and generators of them.
import fc from 'fast-check';
import { API_VERSION, KIND, parseCacheNamespace, type CacheNamespace } from '../../src/api/types.ts';

export const FC_PARAMS = { numRuns: 100, seed: 12345 } as const;

export interface ObjectInput {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  spec?: Record<string, unknown>;
}

/** A raw object (before the operator's validation), with a minimal valid spec unless given one. */
export function rawCacheNamespace(input: ObjectInput = {}): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: input.name ?? 'orders',
      namespace: input.namespace ?? 'team-a',
      uid: input.uid ?? '5f3c1a9e-0000-4000-8000-000000000001',
      generation: input.generation ?? 1,
      creationTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: input.spec ?? { access: [{ subjects: ['orders-api'], verbs: ['get', 'set'] }] },
  };
}

/** A validated, defaulted resource; fails the test run when the input is invalid. */
export function cacheNamespace(input: ObjectInput = {}): CacheNamespace {
  const parsed = parseCacheNamespace(rawCacheNamespace(input));
  if (!parsed.ok) throw new Error(`invalid test resource: ${parsed.problems.join('; ')}`);
  return parsed.resource;
}

/** DNS labels: 1-63 of a-z, 0-9, '-', alphanumeric at both ends. */
export const dnsLabel = fc
  .tuple(
    fc.stringMatching(/^[a-z0-9]$/),
    fc.stringMatching(/^[-a-z0-9]{0,61}$/),
    fc.stringMatching(/^[a-z0-9]$/),
    fc.boolean(),
  )
  .map(([first, middle, last, single]) => (single ? first : `${first}${middle}${last}`));

/** Durations in the CRD's grammar (up to 4 terms of up to 6 digits) between minMs and maxMs. */
const duration = (minMs: number, maxMs: number) =>
  fc
    .record({
      h: fc.integer({ min: 0, max: 8760 }),
      m: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      ms: fc.constantFrom(0, 0, 0, 250),
      seconds: fc.integer({ min: 1, max: 999_999 }),
      plainSeconds: fc.boolean(),
    })
    .map(({ h, m, s, ms, seconds, plainSeconds }) => {
      if (plainSeconds) return `${seconds}s`;
      const parts = [h && `${h}h`, m && `${m}m`, s && `${s}s`, ms && `${ms}ms`].filter(Boolean);
      return parts.length === 0 ? '0s' : parts.join('');
    })
    .filter((text) => msOf(text) >= minMs && msOf(text) <= maxMs);

const principal = fc.stringMatching(/^[a-z0-9:@._/-]{1,40}$/);

const accessRule = fc
  .record({
    subjects: fc.uniqueArray(principal, { maxLength: 3 }),
    groups: fc.uniqueArray(principal, { maxLength: 3 }),
    verbs: fc.subarray(['get', 'set', 'delete'], { minLength: 1 }),
  })
  .filter((rule) => rule.subjects.length + rule.groups.length > 0);

/** Valid specs, each optional field present or not: what a user might apply. */
export const validSpec = fc
  .record(
    {
      cacheNamespace: dnsLabel,
      ttls: fc
        .tuple(duration(1000, 8760 * 3_600_000), duration(1000, 8760 * 3_600_000))
        .filter(([a, b]) => msOf(a) <= msOf(b)),
      maxValueBytes: fc.integer({ min: 1, max: 512 * 1024 * 1024 }),
      maxKeyBytes: fc.integer({ min: 1, max: 65536 }),
      localCache: fc.record(
        {
          enabled: fc.boolean(),
          maxEntries: fc.integer({ min: 1, max: 10_000_000 }),
          maxMemory: fc.oneof(
            fc.integer({ min: 1024, max: 64 * 1024 * 1024 }).map((n) => `${n}Ki`),
            fc.integer({ min: 1, max: 65536 }).map((n) => `${n}Mi`),
            fc.integer({ min: 1, max: 64 }).map((n) => `${n}Gi`),
          ),
          evictionPolicy: fc.constantFrom('lru', 'lfu'),
        },
        { requiredKeys: [] },
      ),
      encryption: fc.record(
        {
          mode: fc.constantFrom('required', 'optional', 'off'),
          rotationPeriod: duration(3_600_000, 8760 * 3_600_000),
        },
        { requiredKeys: [] },
      ),
      access: fc.array(accessRule, { minLength: 1, maxLength: 4 }),
      rateLimit: fc
        .integer({ min: 1, max: 1_000_000 })
        .chain((ops) =>
          fc.record(
            { opsPerSecond: fc.constant(ops), burst: fc.integer({ min: ops, max: 10_000_000 }) },
            { requiredKeys: ['opsPerSecond'] },
          ),
        ),
    },
    { requiredKeys: ['access'] },
  )
  .map(({ ttls, ...rest }) => {
    const spec: Record<string, unknown> = { ...rest };
    if (ttls !== undefined) {
      spec['defaultTTL'] = ttls[0];
      spec['maxTTL'] = ttls[1];
    }
    return spec;
  });

function msOf(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(digits) * (units[unit as string] as number);
  }
  return total;
}
