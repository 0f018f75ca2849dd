import test from 'ava';
import fc from 'fast-check';
import { CacheError } from '../../src/errors.ts';
import { NamespaceRateLimiter } from '../../src/tenancy/rate-limiter.ts';
import { TokenBucket, type RateLimit } from '../../src/tenancy/token-bucket.ts';
import { PROPERTY_RUNS } from '../support/cache-fixture.ts';

/** A clock the test moves by hand, in milliseconds. */
function manualClock(start = 1_000): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let at = start;
  return {
    now: () => at,
    advance: (ms) => {
      at += ms;
    },
    set: (ms) => {
      at = ms;
    },
  };
}

type Step = { advanceMs: number; cost: number } | { advanceMs: number; limit: RateLimit };

const bucketCases: Array<[string, RateLimit, Step[], Array<boolean | number>]> = [
  [
    'full at first: the burst at once, then refused until a token is back',
    { opsPerSecond: 2, burst: 3 },
    [
      { advanceMs: 0, cost: 1 },
      { advanceMs: 0, cost: 1 },
      { advanceMs: 0, cost: 1 },
      { advanceMs: 0, cost: 1 },
      { advanceMs: 499, cost: 1 },
      { advanceMs: 1, cost: 1 },
    ],
    [true, true, true, 500, 1, true],
  ],
  [
    'refilled continuously, never above the burst',
    { opsPerSecond: 10, burst: 2 },
    [
      { advanceMs: 0, cost: 2 },
      { advanceMs: 60_000, cost: 3 },
      { advanceMs: 0, cost: 2 },
      { advanceMs: 0, cost: 1 },
    ],
    [true, Infinity, true, 100],
  ],
  [
    'a take is whole or nothing: a refused batch takes no token',
    { opsPerSecond: 1, burst: 5 },
    [
      { advanceMs: 0, cost: 4 },
      { advanceMs: 0, cost: 2 },
      { advanceMs: 0, cost: 1 },
    ],
    [true, 1000, true],
  ],
  [
    'a lower burst clamps the level; a higher one does not fill the bucket',
    { opsPerSecond: 1, burst: 10 },
    [
      { advanceMs: 0, limit: { opsPerSecond: 1, burst: 2 } },
      { advanceMs: 0, cost: 3 },
      { advanceMs: 0, limit: { opsPerSecond: 1, burst: 20 } },
      { advanceMs: 0, cost: 3 },
      { advanceMs: 0, cost: 2 },
    ],
    [true, Infinity, true, 1000, true],
  ],
  [
    'a new rate applies from the change on; what was refilled before is kept',
    { opsPerSecond: 1, burst: 10 },
    [
      { advanceMs: 0, cost: 10 },
      { advanceMs: 2_000, limit: { opsPerSecond: 100, burst: 10 } },
      { advanceMs: 10, cost: 3 },
      { advanceMs: 0, cost: 1 },
    ],
    [true, true, true, 10],
  ],
  [
    'a clock that steps back refills nothing',
    { opsPerSecond: 1, burst: 1 },
    [
      { advanceMs: 0, cost: 1 },
      { advanceMs: -5_000, cost: 1 },
      { advanceMs: 5_999, cost: 1 },
      { advanceMs: 1, cost: 1 },
    ],
    [true, 1000, 1, true],
  ],
];

for (const [name, limit, steps, expected] of bucketCases) {
  test(`token bucket: ${name}`, (t) => {
    const clock = manualClock();
    const bucket = new TokenBucket(limit, clock.now);
    const got: Array<boolean | number> = [];
    for (const step of steps) {
      clock.advance(step.advanceMs);
      if ('limit' in step) {
        bucket.reconfigure(step.limit);
        got.push(true);
      } else {
        const taken = bucket.take(step.cost);
        got.push(taken.granted ? true : Math.round(taken.retryAfterMs * 1e6) / 1e6);
      }
    }
    t.deepEqual(got, expected, 'true: granted (or reconfigured); a number: the ms until it would be');
  });
}

test('token bucket: over any calls, the tokens granted in a window of w ms are at most burst + opsPerSecond * w', (t) => {
  const call = fc.record({
    gapMs: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 3_000, noNaN: true })),
    cost: fc.integer({ min: 1, max: 12 }),
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000 }),
      fc.integer({ min: 1, max: 10 }),
      fc.array(call, { minLength: 1, maxLength: 80 }),
      (opsPerSecond, burst, calls) => {
        const clock = manualClock(0);
        const bucket = new TokenBucket({ opsPerSecond, burst }, clock.now);
        const grants: Array<{ at: number; cost: number }> = [];
        for (const { gapMs, cost } of calls) {
          clock.advance(gapMs);
          if (bucket.take(cost).granted) grants.push({ at: clock.now(), cost });
        }
        // The windows that matter start and end at a grant.
        for (let first = 0; first < grants.length; first += 1) {
          let granted = 0;
          for (let last = first; last < grants.length; last += 1) {
            granted += grants[last]?.cost ?? 0;
            const windowMs = (grants[last]?.at ?? 0) - (grants[first]?.at ?? 0);
            if (granted > burst + (opsPerSecond * windowMs) / 1000 + 1e-9) return false;
          }
        }
        return true;
      },
    ),
    PROPERTY_RUNS,
  );
  t.pass();
});

test('token bucket: a refused take is granted once its retryAfterMs has passed, not before', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1_000 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 10 }),
      (opsPerSecond, burst, cost) => {
        fc.pre(cost <= burst);
        const clock = manualClock(0);
        const bucket = new TokenBucket({ opsPerSecond, burst }, clock.now);
        bucket.take(burst);
        const refused = bucket.take(cost);
        if (refused.granted) return false;
        clock.advance(refused.retryAfterMs * 0.99);
        if (bucket.take(cost).granted) return false;
        clock.set(refused.retryAfterMs * 1.000_001);
        return bucket.take(cost).granted;
      },
    ),
    PROPERTY_RUNS,
  );
  t.pass();
});

function refusal(t: { fail: (message: string) => void }, admit: () => void): CacheError | undefined {
  try {
    admit();
  } catch (error) {
    if (error instanceof CacheError) return error;
    throw error;
  }
  t.fail('admitted');
  return undefined;
}

test('limiter: a namespace without a limit is always admitted', (t) => {
  const limiter = new NamespaceRateLimiter(manualClock().now);
  limiter.configure('orders', { opsPerSecond: 1, burst: 1 });
  for (let i = 0; i < 1_000; i += 1) limiter.admit('payments', 100);
  limiter.configure('orders', null);
  for (let i = 0; i < 1_000; i += 1) limiter.admit('orders', 1);
  t.pass();
});

test('limiter: over the limit is RATE_LIMITED with the whole seconds to wait, at least 1', (t) => {
  const clock = manualClock();
  const limiter = new NamespaceRateLimiter(clock.now);
  limiter.configure('orders', { opsPerSecond: 1_000, burst: 1 });
  limiter.configure('slow', { opsPerSecond: 1, burst: 5 });
  limiter.admit('orders', 1);
  const soon = refusal(t, () => limiter.admit('orders', 1));
  t.is(soon?.code, 'RATE_LIMITED');
  t.is(soon?.retryAfterSeconds, 1, '1ms away: still 1s, the least Retry-After can say');
  t.is(soon?.httpStatus, 429);
  t.is(
    soon?.message,
    'namespace "orders" is over its rate limit of 1000 keys per second (burst 1) on this replica: retry in 1s',
  );
  limiter.admit('slow', 5);
  clock.advance(500);
  t.is(refusal(t, () => limiter.admit('slow', 3))?.retryAfterSeconds, 3, '2.5s rounded up');
  limiter.admit('orders', 1); // 500ms later: refilled, and the other namespace's bucket is its own
});

test('limiter: a batch above the burst could never pass: BATCH_TOO_LARGE naming rateLimit.burst', (t) => {
  const limiter = new NamespaceRateLimiter(manualClock().now);
  limiter.configure('orders', { opsPerSecond: 100, burst: 10 });
  const error = refusal(t, () => limiter.admit('orders', 11));
  t.is(error?.code, 'BATCH_TOO_LARGE');
  t.is(error?.retryAfterSeconds, undefined);
  t.regex(
    error?.message ?? '',
    /a batch of 11 keys .* at most 10 keys at once \(the CacheNamespace's rateLimit.burst\)/,
  );
  limiter.admit('orders', 10);
});

test('limiter: a changed limit keeps the bucket (clamped); removed and set again, it starts full', (t) => {
  const clock = manualClock();
  const limiter = new NamespaceRateLimiter(clock.now);
  limiter.configure('orders', { opsPerSecond: 1, burst: 4 });
  limiter.admit('orders', 3);
  limiter.configure('orders', { opsPerSecond: 1, burst: 8 });
  t.is(refusal(t, () => limiter.admit('orders', 2))?.code, 'RATE_LIMITED', 'one token left, not refilled');
  limiter.configure('orders', null);
  limiter.configure('orders', { opsPerSecond: 1, burst: 8 });
  limiter.admit('orders', 8);
});
