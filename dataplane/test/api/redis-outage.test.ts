// Redis stopped for real under the whole data plane: killed (connection refused) and frozen
// (SIGSTOP: connections stay open, commands time out). Checks fail-fast timing, degraded reads and
// writes over REST, health, write replay on recovery, and that Redis ends with the right data.
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import { storageKey } from '../../src/cache/storage-key.ts';
import { decodeEnvelope } from '../../src/redis/envelope.ts';
import { standaloneEnv } from '../support/cache-fixture.ts';
import { startRedisStandalone, type RedisServerHandle } from '../support/redis-harness.ts';
import { startTestDataPlane, type TestDataPlane } from '../support/test-data-plane.ts';

const test = anyTest as TestFn<{ redis: RedisServerHandle; plane: TestDataPlane; raw: Redis }>;

const NS = 'orders';
const COMMAND_TIMEOUT_MS = 150;

test.beforeEach(async (t) => {
  t.context.redis = await startRedisStandalone();
  t.context.plane = await startTestDataPlane({
    ...standaloneEnv(t.context.redis),
    REDIS_READ_TIMEOUT: `${COMMAND_TIMEOUT_MS}ms`,
    REDIS_WRITE_TIMEOUT: `${COMMAND_TIMEOUT_MS}ms`,
    REDIS_BREAKER_MAX_FAILURES: '3',
    REDIS_BREAKER_TIMEOUT: '300ms',
    REDIS_REPLAY_INTERVAL: '100ms',
  });
  t.context.raw = new Redis(t.context.redis.port, '127.0.0.1', {
    lazyConnect: true,
    enableOfflineQueue: false,
  });
});

test.afterEach.always(async (t) => {
  t.context.redis?.resume();
  t.context.raw?.disconnect();
  await t.context.plane?.stop();
  await t.context.redis?.stop();
});

async function call(plane: TestDataPlane, method: string, key: string, body?: unknown) {
  const started = performance.now();
  const response = await fetch(`${plane.baseUrl}/api/v1/cache/${NS}/${key}`, {
    method,
    headers: {
      authorization: `Bearer ${plane.token([NS])}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  return { status: response.status, json, ms: performance.now() - started };
}

async function health(plane: TestDataPlane): Promise<Record<string, unknown>> {
  const response = await fetch(`${plane.baseUrl}/health`);
  return { ...((await response.json()) as Record<string, unknown>), httpStatus: response.status };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

test.serial(
  'Redis frozen: calls wait at most the command timeout until the breaker opens, then fail fast',
  async (t) => {
    const { plane, redis } = t.context;
    t.is((await call(plane, 'PUT', 'cached', { value: 'before' })).status, 200);
    redis.pause();

    const slow = [];
    for (let i = 0; i < 3; i += 1) slow.push(await call(plane, 'GET', `unknown-${i}`));
    for (const attempt of slow) {
      t.is(attempt.status, 503);
      t.is(attempt.json['code'], 'REDIS_UNAVAILABLE');
      t.true(
        attempt.ms >= COMMAND_TIMEOUT_MS - 10 && attempt.ms < COMMAND_TIMEOUT_MS + 250,
        `${attempt.ms} ms`,
      );
    }
    const fast = await call(plane, 'GET', 'unknown-fast');
    t.is(fast.status, 503);
    t.is(fast.json['code'], 'CIRCUIT_OPEN');
    t.true(fast.ms < 50, `failed fast in ${fast.ms} ms`);

    const cached = await call(plane, 'GET', 'cached');
    t.is(cached.status, 200);
    t.like(cached.json, { value: 'before', source: 'local', degraded: true });
    t.like(await health(plane), { httpStatus: 200, redisStatus: 'degraded', breakerState: 'open' });

    redis.resume();
    t.true(await eventually(async () => (await health(plane))['redisStatus'] === 'up'), 'recovers');
    t.is((await call(plane, 'GET', 'unknown-fast')).status, 404);
  },
);

test.serial('Redis killed: writes and deletes are kept, served and replayed when it restarts', async (t) => {
  const { plane, redis, raw } = t.context;
  t.is((await call(plane, 'PUT', 'kept', { value: 'old' })).status, 200);
  t.is((await call(plane, 'PUT', 'doomed', { value: 'bye' })).status, 200);
  t.is((await call(plane, 'PUT', 'overtaken', { value: 'old' })).status, 200);
  await redis.kill();

  // A refused connection fails at once: the breaker opens after three writes, all kept locally.
  for (const [key, value] of [
    ['kept', 'new'],
    ['fresh', 'created while down'],
    ['overtaken', 'degraded write'],
  ] as const) {
    const write = await call(plane, 'PUT', key, { value, ttlSeconds: 300 });
    t.is(write.status, 200);
    t.deepEqual(write.json, { success: true, degraded: true });
  }
  t.like((await call(plane, 'DELETE', 'doomed')).json, { deleted: true, degraded: true });
  t.like((await call(plane, 'GET', 'fresh')).json, { value: 'created while down', degraded: true });
  t.is((await call(plane, 'GET', 'doomed')).status, 404);
  t.like(await health(plane), { redisStatus: 'degraded', pendingWrites: 4 });

  // Redis returns empty (no persistence); another writer stores a newer value first.
  await redis.restart();
  await raw.connect();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const newer = Buffer.concat([
    Buffer.from([0xca, 0x01]),
    Buffer.from(Date.now().toString(16).padStart(16, '0')),
  ]);
  const expiry = Buffer.from((Date.now() + 60_000).toString(16).padStart(16, '0'));
  await raw.set(storageKey(NS, 'overtaken'), Buffer.concat([newer, expiry, Buffer.from('newer elsewhere')]));

  t.true(await eventually(async () => (await health(plane))['pendingWrites'] === 0, 10_000), 'replayed');
  const stored = async (key: string) => {
    const value = await raw.getBuffer(storageKey(NS, key));
    return value === null ? undefined : decodeEnvelope(value).value.toString();
  };
  t.is(await stored('kept'), 'new');
  t.is(await stored('fresh'), 'created while down');
  t.is(await stored('doomed'), undefined);
  t.is(await stored('overtaken'), 'newer elsewhere', 'the replay did not overwrite a newer write');
  t.like((await call(plane, 'GET', 'overtaken')).json, { value: 'newer elsewhere', degraded: false });
  t.like(await health(plane), { redisStatus: 'up', breakerState: 'closed' });
});
