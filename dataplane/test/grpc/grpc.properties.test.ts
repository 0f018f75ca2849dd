import { status, type Metadata } from '@grpc/grpc-js';
import test from 'ava';
import fc from 'fast-check';
import { bearer, invoke, startGrpcHarness, type GrpcHarness, type UnaryResult } from './grpc-harness.ts';
import { makeToken, TOKEN_KINDS, type TokenSpec } from './tokens.ts';

const RUNS = { numRuns: 100, seed: 12345 };

type CacheCall = (
  h: GrpcHarness,
  metadata: Metadata,
  namespace: string,
  key: string,
) => Promise<UnaryResult<unknown>>;

const CACHE_CALLS: Record<string, CacheCall> = {
  Get: (h, md, namespace, key) => invoke((cb) => h.client.Get({ namespace, key }, md, cb)),
  Set: (h, md, namespace, key) =>
    invoke((cb) => h.client.Set({ namespace, key, value: Buffer.from(key) }, md, cb)),
  Delete: (h, md, namespace, key) => invoke((cb) => h.client.Delete({ namespace, key }, md, cb)),
  BatchGet: (h, md, namespace, key) => invoke((cb) => h.client.BatchGet({ namespace, keys: [key] }, md, cb)),
  BatchSet: (h, md, namespace, key) =>
    invoke((cb) => h.client.BatchSet({ namespace, entries: { [key]: Buffer.from(key) } }, md, cb)),
};

const namespaceArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/);

const tokenArb: fc.Arbitrary<TokenSpec> = fc.record({
  kind: fc.constantFrom(...TOKEN_KINDS),
  namespaces: fc.array(namespaceArb, { maxLength: 3 }),
  subject: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  offsetSeconds: fc.integer({ min: 60, max: 30 * 24 * 3600 }),
});

interface Authorization {
  valid: boolean;
  /** The bearer value for a call on `namespace` (which a token of any kind names among its grants). */
  token: (namespace: string) => string;
}

/** What the caller sends: a token of some kind, or a random bearer value that is no token at all. */
const authorizationArb: fc.Arbitrary<Authorization> = fc.oneof(
  {
    weight: 6,
    arbitrary: tokenArb.map((spec) => ({
      valid: spec.kind === 'valid',
      token: (namespace: string) => makeToken({ ...spec, namespaces: [namespace, ...spec.namespaces] }),
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .stringMatching(/^[A-Za-z0-9._-]{0,120}$/)
      .map((garbage) => ({ valid: false, token: () => garbage })),
  },
);

test('Property 10: JWT Authentication (gRPC)', async (t) => {
  const h = await startGrpcHarness(t);
  const seen = { accepted: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(
      authorizationArb,
      namespaceArb,
      fc.constantFrom(...Object.keys(CACHE_CALLS)),
      fc.string({ minLength: 1, maxLength: 40 }),
      async (authorization, namespace, rpc, key) => {
        const callsBefore = h.cache.calls.length;
        const metadata = bearer(authorization.token(namespace));
        const result = await CACHE_CALLS[rpc]!(h, metadata, namespace, key);
        const reachedCache = h.cache.calls.length > callsBefore;
        seen[authorization.valid ? 'accepted' : 'refused'] += 1;
        if (authorization.valid) return result.status.code === status.OK && reachedCache;
        return result.status.code === status.UNAUTHENTICATED && !reachedCache;
      },
    ),
    RUNS,
  );
  // The generators must exercise both sides of the property.
  t.true(seen.accepted >= 5 && seen.refused >= 50, JSON.stringify(seen));
});
