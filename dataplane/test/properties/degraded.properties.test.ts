// SEED-DESIGN properties 15, 16 and 18: Redis made unreachable for real (every redis-server process
// SIGSTOPped, so connections stay open and commands time out), standalone and cluster.
import anyTest, { type TestFn } from 'ava';
import fc from 'fast-check';
import { Cluster } from 'ioredis';
import { CacheError, ErrorCode } from '../../src/errors.ts';
import type { RedisClient } from '../../src/redis/connect.ts';
import { GuardedRemote, isAvailabilityFailure } from '../../src/redis/guarded-remote.ts';
import type { RemoteStore } from '../../src/redis/remote-store.ts';
import { OpossumBreaker } from '../../src/resilience/opossum-breaker.ts';
import {
  PROPERTY_RUNS,
  buildTestStack,
  clusterEnv,
  ctx,
  freshNamespace,
  standaloneEnv,
  type TestStack,
} from '../support/cache-fixture.ts';
import {
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../support/redis-harness.ts';

const COMMAND_TIMEOUT_MS = 40;

interface Backend {
  servers: RedisServerHandle[];
  env: Record<string, string>;
  /** A replica that degrades quickly: one failure opens its breaker, 30 ms until a probe. */
  replica: TestStack;
  /** Another replica on the same Redis, local cache off: reads and writes Redis directly. */
  other: TestStack;
}

const test = anyTest as TestFn<{
  standalone: RedisServerHandle;
  cluster: RedisClusterHandle;
  backends: Record<'standalone' | 'cluster', Backend>;
}>;

const FAST_DEGRADING = {
  REDIS_READ_TIMEOUT: `${COMMAND_TIMEOUT_MS}ms`,
  REDIS_WRITE_TIMEOUT: `${COMMAND_TIMEOUT_MS}ms`,
  REDIS_BREAKER_MAX_FAILURES: '1',
  REDIS_BREAKER_TIMEOUT: '30ms',
  REDIS_REPLAY_INTERVAL: '1h', // replays are triggered by the tests
};

async function backendFor(servers: RedisServerHandle[], env: Record<string, string>): Promise<Backend> {
  return {
    servers,
    env,
    replica: await buildTestStack({ ...env, ...FAST_DEGRADING }),
    other: await buildTestStack({ ...env, CACHE_LOCAL_CACHE_ENABLED: 'false' }),
  };
}

test.before(async (t) => {
  const [standalone, cluster] = await Promise.all([startRedisStandalone(), startRedisCluster()]);
  t.context.standalone = standalone;
  t.context.cluster = cluster;
  t.context.backends = {
    standalone: await backendFor([standalone], standaloneEnv(standalone)),
    cluster: await backendFor(cluster.nodes, clusterEnv(cluster)),
  };
});

test.after.always(async (t) => {
  for (const backend of Object.values(t.context.backends ?? {})) {
    backend.servers.forEach((server) => server.resume());
    await backend.replica.close();
    await backend.other.close();
  }
  await t.context.standalone?.stop();
  await t.context.cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pause = (backend: Backend) => backend.servers.forEach((server) => server.pause());

/** Resumes Redis and waits until every command the replica sent while it was paused has executed. */
async function resumeAndDrain(backend: Backend): Promise<void> {
  backend.servers.forEach((server) => server.resume());
  const client = backend.replica.redisClient as RedisClient;
  const connections = client instanceof Cluster ? client.nodes('master') : [client];
  // The replica's client times commands out after COMMAND_TIMEOUT_MS; on a loaded machine a PING
  // right after SIGCONT can take longer, so it is retried (each reply still follows every earlier one).
  await Promise.all(
    connections.map(async (connection) => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await connection.ping();
        } catch (error) {
          if (attempt >= 50) throw error;
        }
      }
    }),
  );
}

async function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof CacheError ? error.code : 'unexpected';
  }
}

/** The real RemoteStore, counting the calls that reach it. */
function countingStore(store: RemoteStore): { store: RemoteStore; calls: () => number } {
  let calls = 0;
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, calls: () => calls };
}

for (const mode of ['standalone', 'cluster'] as const) {
  test.serial(`Property 16: Circuit Breaker Behavior (${mode})`, async (t) => {
    const backend = t.context.backends[mode];
    const real = backend.replica.remote?.store;
    if (real === undefined) return t.fail('no Redis');
    pause(backend);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 2, max: 10 }),
          async (maxFailures, callsWhileOpen, concurrentProbes) => {
            const { store, calls } = countingStore(real);
            const breaker = new OpossumBreaker(
              { maxFailures, openTimeoutMs: 25, halfOpenMaxRequests: 1 },
              isAvailabilityFailure,
            );
            const remote = new GuardedRemote(store, breaker, backend.replica.metrics);
            try {
              // Failures up to the threshold reach Redis and time out…
              for (let i = 0; i < maxFailures; i += 1) {
                if (
                  (await errorCode(remote.call('get', (s) => s.get('p16')))) !== ErrorCode.RedisUnavailable
                ) {
                  return false;
                }
              }
              if (breaker.state() !== 'open' || calls() !== maxFailures) return false;
              // …then calls fail fast without touching Redis…
              const started = performance.now();
              for (let i = 0; i < callsWhileOpen; i += 1) {
                if ((await errorCode(remote.call('get', (s) => s.get('p16')))) !== ErrorCode.CircuitOpen)
                  return false;
              }
              const fastFailMs = (performance.now() - started) / callsWhileOpen;
              if (calls() !== maxFailures || fastFailMs > COMMAND_TIMEOUT_MS / 4) return false;
              // …until the timeout: half-open lets exactly one probe through, and its failure re-opens.
              await sleep(30);
              const probes = await Promise.all(
                Array.from({ length: concurrentProbes }, () =>
                  errorCode(remote.call('get', (s) => s.get('p16'))),
                ),
              );
              const reachedRedis = probes.filter((code) => code === ErrorCode.RedisUnavailable).length;
              return calls() === maxFailures + 1 && reachedRedis === 1 && breaker.state() === 'open';
            } finally {
              breaker.shutdown();
            }
          },
        ),
        PROPERTY_RUNS,
      );
    } finally {
      await resumeAndDrain(backend);
    }
    // A successful probe closes the circuit again.
    const breaker = new OpossumBreaker(
      { maxFailures: 1, openTimeoutMs: 25, halfOpenMaxRequests: 1 },
      isAvailabilityFailure,
    );
    const remote = new GuardedRemote(real, breaker, backend.replica.metrics);
    pause(backend);
    t.is(await errorCode(remote.call('get', (s) => s.get('p16'))), ErrorCode.RedisUnavailable);
    await resumeAndDrain(backend);
    await sleep(30);
    await remote.call('get', (s) => s.get('p16'));
    t.is(breaker.state(), 'closed');
    breaker.shutdown();
  });

  test.serial(`Property 15: Degraded Mode Response (${mode})`, async (t) => {
    const backend = t.context.backends[mode];
    const { replica } = backend;
    const warm = freshNamespace('p15-warm');
    const warmKeys = Array.from({ length: 20 }, (_, i) => `w${i}`);
    for (const key of warmKeys) await replica.cache.set(ctx, warm, key, Buffer.from(`warm-${key}`));
    pause(backend);
    try {
      // Local hits do not touch Redis: the outage shows once a call to Redis fails and opens the breaker.
      t.is((await replica.cache.get(ctx, warm, warmKeys[0] as string)).degraded, false);
      t.is(await errorCode(replica.cache.get(ctx, warm, 'not-cached')), ErrorCode.RedisUnavailable);
      t.is(replica.remote?.breaker.state(), 'open');
      await fc.assert(
        fc.asyncProperty(
          fc.subarray(warmKeys, { minLength: 1 }),
          fc.uniqueArray(fc.stringMatching(/^n[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 5 }),
          fc.uint8Array({ maxLength: 64 }),
          async (known, unknown, bytes) => {
            const namespace = freshNamespace('p15');
            const value = Buffer.from(bytes);
            // Reads of locally cached keys are served, flagged degraded, from the local cache.
            for (const key of known) {
              const { entry } = await replica.cache.get(ctx, warm, key);
              if (entry?.source !== 'local' || !entry.degraded || entry.value.toString() !== `warm-${key}`)
                return false;
            }
            // Keys the local cache cannot answer fail fast with 503-class errors.
            for (const key of unknown) {
              const code = await errorCode(replica.cache.get(ctx, warm, key));
              if (code !== ErrorCode.CircuitOpen && code !== ErrorCode.RedisUnavailable) return false;
            }
            const batch = await replica.cache.batchGet(ctx, warm, [...known, ...unknown]);
            if (!batch.degraded || batch.values.size !== known.length) return false;
            if (batch.unavailableKeys.length !== unknown.length) return false;
            // Writes are acknowledged as degraded and readable locally; deletes hide them.
            const [first] = unknown as [string];
            if (!(await replica.cache.set(ctx, namespace, first, value)).degraded) return false;
            const readBack = await replica.cache.get(ctx, namespace, first);
            if (!readBack.entry?.value.equals(value) || !readBack.degraded) return false;
            const deleted = await replica.cache.delete(ctx, namespace, first);
            const afterDelete = await replica.cache.get(ctx, namespace, first);
            return (
              deleted.deleted && deleted.degraded && afterDelete.entry === undefined && afterDelete.degraded
            );
          },
        ),
        PROPERTY_RUNS,
      );
    } finally {
      await resumeAndDrain(backend);
      await sleep(35);
      await replica.replayer?.runOnce();
    }
    t.is(replica.journal.size, 0, 'every degraded write was replayed once Redis returned');
  });

  test.serial(`Property 18: Local Cache Synchronization (${mode})`, async (t) => {
    const backend = t.context.backends[mode];
    const { replica, other } = backend;
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
    const op = fc.record({
      key: fc.constantFrom(...keys),
      kind: fc.constantFrom('set', 'delete'),
      value: fc.integer({ min: 0, max: 1000 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom(...keys), value: fc.integer() }), { maxLength: 5 }),
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ key: fc.constantFrom(...keys), value: fc.integer() }), { maxLength: 3 }),
        async (initial, degradedOps, newerWrites) => {
          const namespace = freshNamespace('p18');
          const expected = new Map<string, string | undefined>();
          for (const { key, value } of initial) {
            await replica.cache.set(ctx, namespace, key, Buffer.from(`initial-${value}`));
            expected.set(key, `initial-${value}`);
          }
          // Redis goes away: the replica keeps writes and deletes locally.
          pause(backend);
          const touched = new Set<string>();
          try {
            for (const { key, kind, value } of degradedOps) {
              const result =
                kind === 'set'
                  ? await replica.cache.set(ctx, namespace, key, Buffer.from(`degraded-${value}`))
                  : await replica.cache.delete(ctx, namespace, key);
              if (!result.degraded) return false;
              expected.set(key, kind === 'set' ? `degraded-${value}` : undefined);
              touched.add(key);
            }
          } finally {
            await resumeAndDrain(backend);
          }
          // Redis is back; another replica writes newer values before the replay runs.
          await sleep(2);
          for (const { key, value } of newerWrites) {
            await other.cache.set(ctx, namespace, key, Buffer.from(`newer-${value}`));
            expected.set(key, `newer-${value}`);
          }
          // Past the breaker's open timeout the replay's probe is let through; on a loaded machine a
          // probe may itself time out, so the replica gets a few passes, as its timer would give it.
          for (
            let pass = 0;
            pass < 20 && (replica.journal.size > 0 || replica.remote?.breaker.state() !== 'closed');
            pass += 1
          ) {
            await sleep(35);
            await replica.replayer?.runOnce();
          }
          if (replica.journal.size !== 0 || replica.remote?.breaker.state() !== 'closed') return false;
          for (const key of keys) {
            const inRedis = (await other.cache.get(ctx, namespace, key)).entry?.value.toString();
            if (inRedis !== expected.get(key)) return false;
            if (touched.has(key)) {
              const seenByReplica = (await replica.cache.get(ctx, namespace, key)).entry?.value.toString();
              if (seenByReplica !== expected.get(key)) return false;
            }
          }
          return true;
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });
}
