// Two data-plane replicas (separate processes) on one real Redis and one real broker: what one
// replica (or another service) changes, the other stops serving from its near-cache. Registered
// once per broker by kafka.test.ts and rabbitmq.test.ts.
import anyTest, { type TestFn } from 'ava';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { storageKey } from '../../src/cache/storage-key.ts';
import { createBroker } from '../../src/invalidation/create-broker.ts';
import type { MessageBroker } from '../../src/invalidation/message-broker.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { PROPERTY_RUNS, freshNamespace } from '../support/cache-fixture.ts';
import { startRedisStandalone, type RedisServerHandle } from '../support/redis-harness.ts';
import { startReplica, type ReplicaProcess } from '../support/replica-process.ts';

export interface BrokerServer {
  urls: string[];
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface BrokerFixture {
  type: 'kafka' | 'rabbitmq';
  start(): Promise<BrokerServer>;
}

interface Context {
  redis: RedisServerHandle;
  raw: Redis;
  broker: BrokerServer;
  external: MessageBroker;
  a: ReplicaProcess;
  b: ReplicaProcess;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; returns the ms it took, or throws after `timeoutMs`. */
async function within(timeoutMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(5);
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
}

class Api {
  readonly #replica: ReplicaProcess;
  constructor(replica: ReplicaProcess) {
    this.#replica = replica;
  }
  async #call(method: string, path: string, body?: unknown) {
    const namespace = path.split('/')[4] as string;
    const response = await fetch(`${this.#replica.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.#replica.token([namespace])}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }
  put(ns: string, key: string, value: string) {
    return this.#call('PUT', `/api/v1/cache/${ns}/${key}`, { value, ttlSeconds: 300 });
  }
  async get(
    ns: string,
    key: string,
  ): Promise<{ value: string | undefined; source: unknown; status: number }> {
    const { status, json } = await this.#call('GET', `/api/v1/cache/${ns}/${key}`);
    return { status, value: status === 200 ? (json['value'] as string) : undefined, source: json['source'] };
  }
  delete(ns: string, key: string) {
    return this.#call('DELETE', `/api/v1/cache/${ns}/${key}`);
  }
  batchSet(ns: string, entries: Record<string, string>) {
    const body = Object.fromEntries(Object.entries(entries).map(([key, value]) => [key, { value }]));
    return this.#call('POST', `/api/v1/cache/${ns}/batch/set`, { entries: body, ttlSeconds: 300 });
  }
  async health(): Promise<Record<string, unknown>> {
    return (await (await fetch(`${this.#replica.baseUrl}/health`)).json()) as Record<string, unknown>;
  }
}

/** How long another replica may keep serving a value after it was overwritten (asserted bound). */
const WINDOW_MS = 2000;

export function invalidationScenarios(fixture: BrokerFixture): void {
  const test = anyTest as TestFn<Context>;

  test.before(async (t) => {
    const [redis, broker] = await Promise.all([startRedisStandalone(), fixture.start()]);
    const env = {
      REDIS_ADDRESSES: redis.address,
      BROKER_TYPE: fixture.type,
      BROKER_URL: broker.urls.join(','),
      BROKER_TOPIC: 'cache-invalidation-test',
      BROKER_CONNECT_TIMEOUT: '3s',
    };
    const [a, b] = await Promise.all([startReplica('replica-a', env), startReplica('replica-b', env)]);
    const external = createBroker(
      {
        type: fixture.type,
        urls: broker.urls,
        topic: env.BROKER_TOPIC,
        groupId: 'external-service',
        replicaId: 'external-service',
        connectTimeoutMs: 3000,
      },
      createLogger('silent'),
    );
    const raw = new Redis(redis.port, '127.0.0.1');
    Object.assign(t.context, { redis, broker, a, b, external, raw });
    for (const replica of [a, b]) {
      await within(
        30_000,
        `${replica.name} broker up`,
        async () => (await new Api(replica).health())['brokerStatus'] === 'up',
      );
    }
  });

  test.after.always(async (t) => {
    await t.context.a?.stop();
    await t.context.b?.stop();
    await t.context.external?.close();
    t.context.raw?.disconnect();
    await t.context.broker?.stop();
    await t.context.redis?.stop();
  });

  test.serial(
    `${fixture.type}: writes, deletes and batch writes on one replica reach the other's near-cache`,
    async (t) => {
      const a = new Api(t.context.a);
      const b = new Api(t.context.b);
      const ns = freshNamespace('fanout');
      await a.put(ns, 'k', 'v1');
      // B caches k on first read (A's own invalidation of the write may still drop that copy once).
      await within(WINDOW_MS, 'B serves k from its near-cache', async () => {
        const seen = await b.get(ns, 'k');
        return seen.value === 'v1' && seen.source === 'local';
      });

      await a.put(ns, 'k', 'v2');
      const overwrite = await within(
        WINDOW_MS,
        'B sees v2',
        async () => (await b.get(ns, 'k')).value === 'v2',
      );
      await a.delete(ns, 'k');
      const removal = await within(
        WINDOW_MS,
        'B misses k',
        async () => (await b.get(ns, 'k')).status === 404,
      );

      await a.batchSet(ns, { x: 'x1', y: 'y1' });
      t.is((await b.get(ns, 'x')).value, 'x1');
      t.is((await b.get(ns, 'y')).value, 'y1');
      await a.batchSet(ns, { x: 'x2', y: 'y2' });
      await within(
        WINDOW_MS,
        'B sees the batch',
        async () => (await b.get(ns, 'x')).value === 'x2' && (await b.get(ns, 'y')).value === 'y2',
      );
      t.log(`stale window: overwrite ${overwrite.toFixed(1)} ms, delete ${removal.toFixed(1)} ms`);
    },
  );

  test.serial(`${fixture.type}: Property 7: Message Broker Invalidation`, async (t) => {
    const { raw, external } = t.context;
    const replicas = [new Api(t.context.a), new Api(t.context.b)];
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4', 'k5'), { minLength: 1, maxLength: 6 }),
        fc.constantFrom('update' as const, 'delete' as const),
        fc.boolean(),
        async (keys, action, writerIsA) => {
          const ns = freshNamespace('p7');
          const writer = writerIsA ? replicas[0] : replicas[1];
          for (const key of keys) await writer?.put(ns, key, 'cached');
          for (const replica of replicas) for (const key of keys) await replica.get(ns, key); // warm both
          // Another service changes the data behind the replicas' backs, then says so.
          if (action === 'update')
            for (const key of keys) await raw.set(storageKey(ns, key), 'changed elsewhere');
          await external.publish({ namespace: ns, keys, action, timestamp: Date.now() });
          const expected = action === 'update' ? 'changed elsewhere' : undefined;
          await within(WINDOW_MS, `both replicas apply the ${action}`, async () => {
            for (const replica of replicas) {
              for (const key of keys) if ((await replica.get(ns, key)).value !== expected) return false;
            }
            return true;
          });
          if (action === 'delete') {
            for (const key of keys) if ((await raw.exists(storageKey(ns, key))) !== 0) return false;
          }
          return true;
        },
      ),
      PROPERTY_RUNS,
    );
    t.pass();
  });

  test.serial(
    `${fixture.type}: a broker killed mid-traffic: no stale reads, no crash, health tells`,
    async (t) => {
      const a = new Api(t.context.a);
      const b = new Api(t.context.b);
      const ns = freshNamespace('outage');
      let stale = 0;
      let failed = 0;
      let running = true;
      let version = 0;
      const traffic = (async () => {
        while (running) {
          version += 1;
          const written = `v${version}`;
          if ((await a.put(ns, 'hot', written)).status !== 200) failed += 1;
          const seen = await b.get(ns, 'hot');
          // Once A's write is acknowledged, B must not serve an older value for longer than the window.
          if (seen.value !== written) {
            const caughtUp = await within(
              WINDOW_MS,
              'B catches up',
              async () => (await b.get(ns, 'hot')).value === written,
            ).catch(() => undefined);
            if (caughtUp === undefined) stale += 1;
          }
          await sleep(10);
        }
      })();
      await sleep(300);
      await t.context.broker.kill();
      await within(
        15_000,
        'health reports the broker down',
        async () => (await b.health())['brokerStatus'] !== 'up',
      );
      await sleep(500);
      await t.context.broker.restart();
      for (const replica of [a, b]) {
        await within(
          30_000,
          'broker up again',
          async () => (await replica.health())['brokerStatus'] === 'up',
        );
      }
      await sleep(300);
      running = false;
      await traffic;
      t.is(failed, 0, 'every write was accepted');
      t.is(stale, 0, 'no stale read outlived the window');
      await a.put(ns, 'after', 'one');
      t.is((await b.get(ns, 'after')).value, 'one');
      await a.put(ns, 'after', 'two');
      await within(
        WINDOW_MS,
        'invalidation works after recovery',
        async () => (await b.get(ns, 'after')).value === 'two',
      );
    },
  );

  test.serial(`${fixture.type}: a paused replica catches up when it resumes`, async (t) => {
    const a = new Api(t.context.a);
    const b = new Api(t.context.b);
    const ns = freshNamespace('paused');
    await a.put(ns, 'k', 'before');
    await within(WINDOW_MS, 'B serves k from its near-cache', async () => {
      const seen = await b.get(ns, 'k');
      return seen.value === 'before' && seen.source === 'local';
    });
    t.context.b.pause();
    try {
      await a.put(ns, 'k', 'while paused');
      await sleep(1000);
    } finally {
      t.context.b.resume();
    }
    await within(
      10_000,
      'B serves the write made while it was paused',
      async () => (await b.get(ns, 'k')).value === 'while paused',
    );
    t.pass();
  });
}
