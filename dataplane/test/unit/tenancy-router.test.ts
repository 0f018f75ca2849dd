// The router over per-namespace stacks, fed by a fake NamespaceConfigSource, without Redis (each
// namespace local-only, as on the embedded store) — and the Redis-less parts of the Redis case.
import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import type { CacheLimits } from '../../src/cache/limits.ts';
import { loadConfig, type RedisConfig } from '../../src/config/config.ts';
import { CacheError } from '../../src/errors.ts';
import { NO_INVALIDATION } from '../../src/invalidation/invalidation.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { PrometheusMetrics } from '../../src/observability/metrics.ts';
import { startKubernetesTenancy, type KubernetesTenancy } from '../../src/tenancy/kubernetes-tenancy.ts';
import type { NamespaceConfigSnapshot } from '../../src/tenancy/namespace-source.ts';
import { effectiveLimits } from '../../src/tenancy/tenant.ts';
import type { RateLimit } from '../../src/tenancy/token-bucket.ts';
import { ctx } from '../support/cache-fixture.ts';
import {
  configEntry,
  credentialsOf,
  FakeNamespaceSource,
  snapshotOf,
  type EntrySpec,
} from '../support/tenancy-fixture.ts';

const GLOBAL: CacheLimits = {
  defaultTtlMs: 3_600_000,
  maxTtlMs: 86_400_000,
  maxValueBytes: 1 << 20,
  maxKeyBytes: 1024,
  maxBatchSize: 100,
};

interface Started {
  tenancy: KubernetesTenancy;
  source: FakeNamespaceSource;
  metrics: PrometheusMetrics;
  logs: Array<Record<string, unknown>>;
}

async function start(
  t: ExecutionContext,
  first: NamespaceConfigSnapshot,
  redis?: RedisConfig,
  now?: () => number,
): Promise<Started> {
  const source = new FakeNamespaceSource(first);
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const tenancy = await startKubernetesTenancy({
    source,
    sourceDescription: 'ConfigMap test/entries and Secret test/credentials',
    settings: {
      redis,
      globalLimits: GLOBAL,
      journal: { maxEntries: 100, maxBytes: 1 << 20 },
      credentialsSecret: 'test/credentials',
      invalidation: NO_INVALIDATION,
      metrics,
      logger: createLogger('info', sink),
      now,
    },
  });
  t.teardown(() => tenancy.close());
  return { tenancy, source, metrics, logs };
}

const bytes = (text: string) => Buffer.from(text);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof CacheError) return `${error.code}: ${error.message}`;
    throw error;
  }
}

/** Pushes a snapshot and waits until it is in effect. */
async function push(started: Started, snapshot: NamespaceConfigSnapshot): Promise<void> {
  started.source.push(snapshot);
  await started.tenancy.router.settled();
}

test("a namespace's limits are the stricter of its own and the data plane's; the batch size is global", (t) => {
  t.deepEqual(
    effectiveLimits(
      { defaultTtlMs: 7_200_000, maxTtlMs: 172_800_000, maxValueBytes: 100, maxKeyBytes: 4096 },
      GLOBAL,
    ),
    {
      defaultTtlMs: 7_200_000,
      maxTtlMs: 86_400_000,
      maxValueBytes: 100,
      maxKeyBytes: 1024,
      maxBatchSize: 100,
      origins: { maxValueBytes: "the CacheNamespace's maxValueBytes" },
    },
    'error messages name the limit that applies',
  );
  t.like(
    effectiveLimits(
      { defaultTtlMs: 172_800_000, maxTtlMs: 172_800_000, maxValueBytes: 1, maxKeyBytes: 1 },
      GLOBAL,
    ),
    { defaultTtlMs: 86_400_000, maxTtlMs: 86_400_000 },
    'the default TTL is bounded by the effective maximum',
  );
});

test('each namespace is served from its own stack with its own limits; others are not configured', async (t) => {
  const started = await start(
    t,
    snapshotOf({
      orders: configEntry('orders', { limits: { maxValueBytes: 10 } }),
      payments: configEntry('payments', {
        limits: { maxValueBytes: 20, maxTtlMs: 60_000, defaultTtlMs: 60_000 },
      }),
    }),
  );
  const { router } = started.tenancy;
  t.is(await codeOf(router.set(ctx, 'orders', 'k', bytes('x'.repeat(10)))), 'ok');
  t.regex(
    await codeOf(router.set(ctx, 'orders', 'k', bytes('x'.repeat(11)))),
    /^PAYLOAD_TOO_LARGE: value is 11 bytes; the limit is 10/,
  );
  t.is(await codeOf(router.set(ctx, 'payments', 'k', bytes('x'.repeat(20)))), 'ok');
  t.regex(
    await codeOf(router.set(ctx, 'payments', 'k', bytes('y'), { ttlMs: 61_000 })),
    /^TTL_INVALID: .*exceeds the limit of 60s/,
  );
  t.is((await router.get(ctx, 'orders', 'k')).entry?.value.toString(), 'x'.repeat(10));
  t.is((await router.get(ctx, 'payments', 'k')).entry?.value.length, 20, 'namespaces do not share keys');
  t.is(await codeOf(router.get(ctx, 'stock', 'k')), 'FORBIDDEN: namespace "stock" is not configured');
  t.like(router.health(), {
    ready: true,
    healthy: true,
    mode: 'embedded',
    redisStatus: 'embedded',
    breakerState: 'none',
  });
});

test('limits change in place: what the namespace holds stays', async (t) => {
  const started = await start(
    t,
    snapshotOf({ orders: configEntry('orders', { limits: { maxValueBytes: 10 } }) }),
  );
  const { router } = started.tenancy;
  await router.set(ctx, 'orders', 'kept', bytes('v'));
  await push(
    started,
    snapshotOf({ orders: configEntry('orders', { limits: { maxValueBytes: 100 }, generation: 2 }) }),
  );
  t.is(
    await codeOf(router.set(ctx, 'orders', 'big', bytes('x'.repeat(50)))),
    'ok',
    'the raised bound applies',
  );
  t.is((await router.get(ctx, 'orders', 'kept')).entry?.value.toString(), 'v', 'same stack');
  await push(
    started,
    snapshotOf({ orders: configEntry('orders', { limits: { maxValueBytes: 5 }, generation: 3 }) }),
  );
  t.regex(await codeOf(router.set(ctx, 'orders', 'big', bytes('x'.repeat(6)))), /^PAYLOAD_TOO_LARGE/);
});

test('new local cache settings build a new stack (a local-only namespace starts empty)', async (t) => {
  const started = await start(t, snapshotOf({ orders: configEntry('orders') }));
  const { router } = started.tenancy;
  await router.set(ctx, 'orders', 'k', bytes('v'));
  const lfu: EntrySpec = { localCache: { evictionPolicy: 'lfu', maxEntries: 5 } };
  await push(started, snapshotOf({ orders: configEntry('orders', lfu) }));
  t.is((await router.get(ctx, 'orders', 'k')).entry, undefined);
  for (let i = 0; i < 10; i += 1) await router.set(ctx, 'orders', `k${i}`, bytes('v'));
  const metrics = (await started.metrics.render()).body;
  t.regex(metrics, /^cacheplane_local_entries 5$/m, 'the new bound of 5 entries holds');
});

test('a namespace added at run time is served at once; a removed one is not configured', async (t) => {
  const started = await start(t, snapshotOf({}));
  const { router } = started.tenancy;
  t.is(await codeOf(router.get(ctx, 'orders', 'k')), 'FORBIDDEN: namespace "orders" is not configured');
  started.source.push(snapshotOf({ orders: configEntry('orders') }));
  // Not waiting for the change to settle: the call waits for the namespace's stack itself.
  t.is(await codeOf(router.set(ctx, 'orders', 'k', bytes('v'))), 'ok');
  await push(started, snapshotOf({}));
  t.is(await codeOf(router.get(ctx, 'orders', 'k')), 'FORBIDDEN: namespace "orders" is not configured');
  t.true(started.logs.some((line) => line['msg'] === 'namespace removed: no longer served'));
});

/** An entry with a rate limit (null: none). */
function limited(namespace: string, rateLimit: RateLimit | null, generation = 1): Record<string, unknown> {
  return { ...configEntry(namespace, { generation }), rateLimit };
}

/** A clock the test moves by hand, in milliseconds. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let at = 0;
  return {
    now: () => at,
    advance: (ms) => {
      at += ms;
    },
  };
}

const OVER_LIMIT =
  /^RATE_LIMITED: namespace "orders" is over its rate limit of 1 keys per second \(burst 3\)/;

test("a namespace's rate limit takes a token per key; other namespaces are unaffected", async (t) => {
  const clock = manualClock();
  const started = await start(
    t,
    snapshotOf({
      orders: limited('orders', { opsPerSecond: 1, burst: 3 }),
      payments: configEntry('payments'),
    }),
    undefined,
    clock.now,
  );
  const { router } = started.tenancy;
  for (let i = 0; i < 3; i += 1) t.is(await codeOf(router.set(ctx, 'orders', `k${i}`, bytes('v'))), 'ok');
  t.regex(await codeOf(router.get(ctx, 'orders', 'k0')), OVER_LIMIT);
  for (let i = 0; i < 20; i += 1) t.is(await codeOf(router.set(ctx, 'payments', 'k', bytes('v'))), 'ok');
  clock.advance(1_000);
  const refused = await router.batchGet(ctx, 'orders', ['k0', 'k1']).catch((error: unknown) => error);
  t.like(refused, { code: 'RATE_LIMITED', retryAfterSeconds: 1 }, 'two keys, one token: one more second');
  clock.advance(1_000);
  t.deepEqual((await router.batchGet(ctx, 'orders', ['k0', 'k1'])).missingKeys, []);
  t.regex(await codeOf(router.delete(ctx, 'orders', 'k0')), OVER_LIMIT, 'delete takes a token too');
  clock.advance(3_000);
  const four = new Map(['a', 'b', 'c', 'd'].map((key) => [key, bytes('v')]));
  t.regex(await codeOf(router.batchSet(ctx, 'orders', four)), /^BATCH_TOO_LARGE: a batch of 4 keys/);
  t.is(await codeOf(router.batchSet(ctx, 'orders', new Map([...four].slice(0, 3)))), 'ok', 'nothing taken');
});

test('a rate limit change applies at once and in place; null removes the limit', async (t) => {
  const clock = manualClock();
  const started = await start(
    t,
    snapshotOf({ orders: limited('orders', { opsPerSecond: 1, burst: 5 }) }),
    undefined,
    clock.now,
  );
  const { router } = started.tenancy;
  for (let i = 0; i < 4; i += 1) await router.set(ctx, 'orders', 'kept', bytes('v'));
  // Not waiting for the change to settle: the limit applies as the change is taken.
  started.source.push(snapshotOf({ orders: limited('orders', { opsPerSecond: 1, burst: 3 }, 2) }));
  t.is(await codeOf(router.get(ctx, 'orders', 'kept')), 'ok', 'the one token left is kept');
  t.regex(await codeOf(router.get(ctx, 'orders', 'kept')), OVER_LIMIT, 'the new burst applies');
  clock.advance(60_000);
  for (let i = 0; i < 3; i += 1) await router.get(ctx, 'orders', 'kept');
  t.regex(await codeOf(router.get(ctx, 'orders', 'kept')), OVER_LIMIT, 'refilled up to the new burst only');
  await push(started, snapshotOf({ orders: limited('orders', null, 3) }));
  for (let i = 0; i < 50; i += 1) {
    t.is((await router.get(ctx, 'orders', 'kept')).entry?.value.toString(), 'v', 'same stack, no limit');
  }
  t.true(
    started.logs.some((line) => line['msg'] === 'namespace limits applied' && line['rateLimit'] === null),
    'logged as applied in place',
  );
});

test('gauges and health add up over namespaces', async (t) => {
  const started = await start(
    t,
    snapshotOf({ orders: configEntry('orders'), payments: configEntry('payments') }),
  );
  const { router } = started.tenancy;
  await router.set(ctx, 'orders', 'a', bytes('1'));
  await router.set(ctx, 'orders', 'b', bytes('2'));
  await router.set(ctx, 'payments', 'a', bytes('3'));
  t.regex((await started.metrics.render()).body, /^cacheplane_local_entries 3$/m);
  t.is(router.health().pendingWrites, 0);
});

test("invalidations reach their namespace's stack; clearLocal reaches every one", async (t) => {
  const started = await start(
    t,
    snapshotOf({ orders: configEntry('orders'), payments: configEntry('payments') }),
  );
  const { router } = started.tenancy;
  for (const namespace of ['orders', 'payments']) {
    await router.set(ctx, namespace, 'a', bytes('1'), {});
    await router.set(ctx, namespace, 'b', bytes('2'), {});
  }
  router.invalidateLocal('orders', ['a'], Date.now());
  router.invalidateLocal('stock', ['a'], Date.now()); // not served: nothing to do
  t.is((await router.get(ctx, 'orders', 'a')).entry, undefined);
  t.truthy((await router.get(ctx, 'payments', 'a')).entry);
  router.clearLocalNamespace('payments');
  t.is((await router.get(ctx, 'payments', 'b')).entry, undefined);
  t.truthy((await router.get(ctx, 'orders', 'b')).entry);
  router.clearLocal();
  t.is((await router.get(ctx, 'orders', 'b')).entry, undefined);
  await router.deleteShared('orders', ['b'], Date.now()); // local-only: nothing shared to delete
});

test('a bad entry is logged at error and the previous good one stays in effect', async (t) => {
  const started = await start(
    t,
    snapshotOf({ orders: configEntry('orders', { limits: { maxValueBytes: 10 } }) }),
  );
  await push(started, {
    entries: { 'orders.json': '{"schemaVersion": 1}', 'new.json': '{' },
    credentials: {},
  });
  const errors = started.logs.filter((line) => line['level'] === 'error').map((line) => String(line['msg']));
  t.true(
    errors.some((msg) => /"orders.json": .*\(the previous entry stays in effect\)/.test(msg)),
    errors.join('\n'),
  );
  t.true(
    errors.some((msg) => /"new.json": not JSON.*\(the namespace is not served\)/.test(msg)),
    errors.join('\n'),
  );
  const { router } = started.tenancy;
  t.regex(await codeOf(router.set(ctx, 'orders', 'k', bytes('x'.repeat(11)))), /^PAYLOAD_TOO_LARGE/);
  t.is(await codeOf(router.get(ctx, 'new', 'k')), 'FORBIDDEN: namespace "new" is not configured');
});

test('without Redis a namespace needs its local cache: 503 with the reason', async (t) => {
  const started = await start(
    t,
    snapshotOf({ orders: configEntry('orders', { localCache: { enabled: false } }) }),
  );
  t.is(
    await codeOf(started.tenancy.router.get(ctx, 'orders', 'k')),
    'REDIS_UNAVAILABLE: namespace "orders" has its local cache disabled and this data plane has no Redis (REDIS_ADDRESSES): there is nowhere to keep its values',
  );
});

test('with Redis, a namespace whose credentials are missing answers 503 naming the Secret keys', async (t) => {
  // Never connected: without credentials no stack is built.
  const redis = loadConfig({ REDIS_ADDRESSES: '127.0.0.1:1' }).redis as RedisConfig;
  const started = await start(
    t,
    snapshotOf({ orders: configEntry('orders') }, { 'orders.username': 'cacheplane.team-a.orders' }),
    redis,
  );
  const { router } = started.tenancy;
  t.is(
    await codeOf(router.set(ctx, 'orders', 'k', bytes('v'))),
    'REDIS_UNAVAILABLE: namespace "orders" has no Redis credentials yet: Secret test/credentials lacks "orders.password"; calls fail until it has them',
  );
  t.like(router.health(), {
    ready: true,
    mode: 'standalone',
    redisStatus: 'up',
    breakerState: 'closed',
    pendingWrites: 0,
  });
  await push(started, snapshotOf({ orders: configEntry('orders') }, credentialsOf('other', 'pw')));
  t.regex(await codeOf(router.get(ctx, 'orders', 'k')), /lacks "orders.username" and "orders.password"/);
});

test('the first snapshot failing fails the start, with what was being read', async (t) => {
  const source = new FakeNamespaceSource(new Error('configmaps "entries" is forbidden'));
  const error = await t.throwsAsync(
    startKubernetesTenancy({
      source,
      sourceDescription: 'ConfigMap test/entries and Secret test/credentials',
      settings: {
        redis: undefined,
        globalLimits: GLOBAL,
        journal: { maxEntries: 1, maxBytes: 1024 },
        credentialsSecret: 'test/credentials',
        invalidation: NO_INVALIDATION,
        metrics: new PrometheusMetrics({ defaultMetrics: false }),
        logger: createLogger('silent'),
      },
    }),
  );
  t.is(
    error.message,
    'cannot read the namespace configuration (ConfigMap test/entries and Secret test/credentials): configmaps "entries" is forbidden',
  );
  t.true(source.closed);
});

test('close stops the source and every stack; later snapshots change nothing', async (t) => {
  const started = await start(t, snapshotOf({ orders: configEntry('orders') }));
  t.is(await started.tenancy.close(), 0);
  t.true(started.source.closed);
  started.source.push(snapshotOf({ orders: configEntry('orders'), payments: configEntry('payments') }));
  await started.tenancy.router.settled();
  for (const namespace of ['orders', 'payments']) {
    t.is(
      await codeOf(started.tenancy.router.get(ctx, namespace, 'k')),
      `FORBIDDEN: namespace "${namespace}" is not configured`,
    );
  }
});
