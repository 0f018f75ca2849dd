// SEED-DESIGN properties 1-5, 8, 12, 13 and 19 against real Redis, standalone and a 3-primary
// cluster. Each backend gets two "replicas" on the same Redis: `near` with a local cache (the
// default) and `direct` with the local cache disabled, so every answer of `direct` comes from Redis.
import anyTest, { type TestFn } from 'ava';
import fc from 'fast-check';
import { storageKey } from '../../src/cache/storage-key.ts';
import {
  PROPERTY_RUNS,
  buildTestStack,
  clusterEnv,
  counterValue,
  ctx,
  freshNamespace,
  keyArbitrary,
  standaloneEnv,
  valueArbitrary,
  type TestStack,
} from '../support/cache-fixture.ts';
import {
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../support/redis-harness.ts';

interface Backend {
  near: TestStack;
  direct: TestStack;
}

const test = anyTest as TestFn<{
  standalone: RedisServerHandle;
  cluster: RedisClusterHandle;
  backends: Record<'standalone' | 'cluster', Backend>;
}>;

async function backendFor(env: Record<string, string>): Promise<Backend> {
  return {
    near: await buildTestStack(env),
    direct: await buildTestStack({ ...env, CACHE_LOCAL_CACHE_ENABLED: 'false' }),
  };
}

test.before(async (t) => {
  const [standalone, cluster] = await Promise.all([startRedisStandalone(), startRedisCluster()]);
  t.context.standalone = standalone;
  t.context.cluster = cluster;
  t.context.backends = {
    standalone: await backendFor(standaloneEnv(standalone)),
    cluster: await backendFor(clusterEnv(cluster)),
  };
});

test.after.always(async (t) => {
  for (const backend of Object.values(t.context.backends ?? {})) {
    await backend.near.close();
    await backend.direct.close();
  }
  await t.context.standalone?.stop();
  await t.context.cluster?.stop();
});

const ttlSecondsArbitrary = fc.integer({ min: 1, max: 24 * 3600 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const mode of ['standalone', 'cluster'] as const) {
  test.serial(`Property 1: Cache Round-Trip Consistency (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    await fc.assert(
      fc.asyncProperty(keyArbitrary, valueArbitrary, ttlSecondsArbitrary, async (key, value, ttlSeconds) => {
        const namespace = freshNamespace('p1');
        await near.cache.set(ctx, namespace, key, value, { ttlMs: ttlSeconds * 1000 });
        const fromNear = await near.cache.get(ctx, namespace, key);
        const fromRedis = await direct.cache.get(ctx, namespace, key);
        return (
          fromNear.entry !== undefined &&
          fromNear.entry.value.equals(value) &&
          fromRedis.entry?.source === 'redis' &&
          fromRedis.entry.value.equals(value)
        );
      }),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 2: Cache Miss for Non-Existent Keys (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArbitrary, { minLength: 2, maxLength: 10 }),
        valueArbitrary,
        async (keys, value) => {
          const namespace = freshNamespace('p2');
          const [written, ...neverWritten] = keys as [string, ...string[]];
          await near.cache.set(ctx, namespace, written, value);
          for (const key of neverWritten) {
            if ((await near.cache.get(ctx, namespace, key)).entry !== undefined) return false;
            if ((await direct.cache.get(ctx, namespace, key)).entry !== undefined) return false;
          }
          return true;
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 3: Delete Removes Entries (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    await fc.assert(
      fc.asyncProperty(
        keyArbitrary,
        valueArbitrary,
        fc.boolean(),
        async (key, value, deleteThroughDirect) => {
          const namespace = freshNamespace('p3');
          await near.cache.set(ctx, namespace, key, value);
          await near.cache.get(ctx, namespace, key); // warm the near-cache
          const deleter = deleteThroughDirect ? direct : near;
          const first = await deleter.cache.delete(ctx, namespace, key);
          const second = await deleter.cache.delete(ctx, namespace, key);
          const afterDirect = await direct.cache.get(ctx, namespace, key);
          const afterDeleter = await deleter.cache.get(ctx, namespace, key);
          return (
            first.deleted &&
            !second.deleted &&
            afterDirect.entry === undefined &&
            afterDeleter.entry === undefined
          );
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 4: TTL Expiration (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    const client = direct.redisClient;
    if (client === undefined) return t.fail('no Redis client');
    await fc.assert(
      fc.asyncProperty(
        keyArbitrary,
        valueArbitrary,
        fc.integer({ min: 30, max: 150 }),
        async (key, value, ttlMs) => {
          const namespace = freshNamespace('p4');
          const before = Date.now();
          const written = await near.cache.set(ctx, namespace, key, value, { ttlMs });
          const pttl = await client.pttl(storageKey(namespace, key));
          const elapsed = Date.now() - before;
          // Redis holds the TTL we asked for (minus what already elapsed), never more.
          if (elapsed < ttlMs / 2 && (pttl > ttlMs || pttl <= 0)) {
            throw new Error(
              `PTTL ${pttl} ms for a TTL of ${ttlMs} ms, ${elapsed} ms after the write (degraded: ${written.degraded})`,
            );
          }
          // Redis counts the TTL from when it ran the SET, a little after `before` on a busy machine.
          await sleep(ttlMs - (Date.now() - before) + 50);
          const fromNear = await near.cache.get(ctx, namespace, key);
          const fromRedis = await direct.cache.get(ctx, namespace, key);
          return fromNear.entry === undefined && fromRedis.entry === undefined;
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 5: Batch Operations Equivalence (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(keyArbitrary, valueArbitrary), {
          minLength: 1,
          maxLength: 40,
          selector: ([key]) => key,
        }),
        fc.uniqueArray(keyArbitrary, { maxLength: 10 }),
        async (pairs, extraKeys) => {
          const namespace = freshNamespace('p5');
          const entries = new Map(pairs);
          const absent = extraKeys.filter((key) => !entries.has(key));
          const stored = await near.cache.batchSet(ctx, namespace, entries, { ttlMs: 60_000 });
          if (stored.storedCount !== entries.size) return false;
          const batch = await direct.cache.batchGet(ctx, namespace, [...entries.keys(), ...absent]);
          for (const [key, value] of entries) {
            const single = await direct.cache.get(ctx, namespace, key);
            if (!single.entry?.value.equals(value) || !batch.values.get(key)?.equals(value)) return false;
          }
          return (
            batch.values.size === entries.size &&
            [...batch.missingKeys].sort().join('\u0000') === [...absent].sort().join('\u0000') &&
            batch.unavailableKeys.length === 0
          );
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 8: Concurrent Operations Safety (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    const operation = fc.record({
      kind: fc.constantFrom('set', 'get', 'delete', 'batchSet', 'batchGet'),
      key: fc.integer({ min: 0, max: 4 }),
      value: fc.integer({ min: 0, max: 1_000_000 }),
      replica: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 60 }), async (operations) => {
        const namespace = freshNamespace('p8');
        const written = new Map<string, Set<string>>();
        const valueFor = (key: string, value: number) => {
          const text = `${key}=${value}`;
          written.set(key, (written.get(key) ?? new Set()).add(text));
          return Buffer.from(text);
        };
        const readOk = (key: string, value: Buffer | undefined) =>
          value === undefined || (written.get(key)?.has(value.toString()) ?? false);
        let corrupt = false;
        await Promise.all(
          operations.map(async ({ kind, key: index, value, replica }) => {
            const key = `k${index}`;
            const stack = replica ? near : direct;
            switch (kind) {
              case 'set':
                return void (await stack.cache.set(ctx, namespace, key, valueFor(key, value)));
              case 'delete':
                return void (await stack.cache.delete(ctx, namespace, key));
              case 'batchSet':
                return void (await stack.cache.batchSet(
                  ctx,
                  namespace,
                  new Map([
                    [key, valueFor(key, value)],
                    [`k${(index + 1) % 5}`, valueFor(`k${(index + 1) % 5}`, value)],
                  ]),
                ));
              case 'get': {
                const { entry } = await stack.cache.get(ctx, namespace, key);
                if (!readOk(key, entry?.value)) corrupt = true;
                return;
              }
              case 'batchGet': {
                const { values } = await stack.cache.batchGet(ctx, namespace, [key, 'k0']);
                for (const [name, found] of values) if (!readOk(name, found)) corrupt = true;
                return;
              }
            }
          }),
        );
        // Every value Redis ends with is one that was written to that very key.
        const final = await direct.cache.batchGet(ctx, namespace, ['k0', 'k1', 'k2', 'k3', 'k4']);
        for (const [name, found] of final.values) if (!readOk(name, found)) corrupt = true;
        return !corrupt;
      }),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 12: Namespace Isolation (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    const client = direct.redisClient;
    if (client === undefined) return t.fail('no Redis client');
    await fc.assert(
      fc.asyncProperty(keyArbitrary, valueArbitrary, valueArbitrary, async (key, first, second) => {
        const a = freshNamespace('p12a');
        const b = freshNamespace('p12b');
        await near.cache.set(ctx, a, key, first);
        const seenFromB = await direct.cache.get(ctx, b, key);
        await near.cache.set(ctx, b, key, second);
        const stillA = await direct.cache.get(ctx, a, key);
        await near.cache.delete(ctx, b, key);
        const afterDeleteInB = await direct.cache.get(ctx, a, key);
        // The stored key starts with "<namespace>:" and contains no hash tag of the caller's.
        const stored = storageKey(a, key);
        const exists = await client.exists(stored);
        return (
          seenFromB.entry === undefined &&
          stillA.entry?.value.equals(first) === true &&
          afterDeleteInB.entry?.value.equals(first) === true &&
          stored.startsWith(`${a}:`) &&
          !/\{[^}]+\}/.test(stored) &&
          exists === 1
        );
      }),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(`Property 19: Local vs Redis Metrics Distinction (${mode})`, async (t) => {
    const { near, direct } = t.context.backends[mode];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 5 }), write: fc.boolean() }), {
          minLength: 1,
          maxLength: 30,
        }),
        async (steps) => {
          const namespace = freshNamespace('p19');
          // Writes go through `direct`, so `near` learns values only by reading them from Redis.
          const inRedis = new Set<number>();
          const inNear = new Set<number>();
          const expected = { local: 0, redis: 0, miss: 0 };
          for (const { key, write } of steps) {
            if (write) {
              await direct.cache.set(ctx, namespace, `k${key}`, Buffer.from('v'));
              inRedis.add(key);
              continue;
            }
            const { entry } = await near.cache.get(ctx, namespace, `k${key}`);
            const model = inNear.has(key) ? 'local' : inRedis.has(key) ? 'redis' : 'miss';
            if ((entry?.source ?? 'miss') !== model) return false;
            expected[model] += 1;
            if (model === 'redis') inNear.add(key);
          }
          const seen = {
            local: await counterValue(near.metrics, 'cacheplane_cache_hits_total', {
              namespace,
              source: 'local',
            }),
            redis: await counterValue(near.metrics, 'cacheplane_cache_hits_total', {
              namespace,
              source: 'redis',
            }),
            miss: await counterValue(near.metrics, 'cacheplane_cache_misses_total', { namespace }),
          };
          return (
            seen.local === expected.local && seen.redis === expected.redis && seen.miss === expected.miss
          );
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });
}
