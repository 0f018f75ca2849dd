import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import test from 'ava';
import type { BatchGetResponse__Output } from '../../src/generated/cache/v1/BatchGetResponse.ts';
import type { BatchSetResponse__Output } from '../../src/generated/cache/v1/BatchSetResponse.ts';
import type { DeleteResponse__Output } from '../../src/generated/cache/v1/DeleteResponse.ts';
import type { GetResponse__Output } from '../../src/generated/cache/v1/GetResponse.ts';
import type { HealthResponse__Output } from '../../src/generated/cache/v1/HealthResponse.ts';
import type { SetResponse__Output } from '../../src/generated/cache/v1/SetResponse.ts';
import { invoke, metadataOf, NAMESPACE, startGrpcHarness } from './grpc-harness.ts';

test('Set then Get returns the value, its source and its expiry', async (t) => {
  const h = await startGrpcHarness(t);
  const before = Date.now();
  const set = await invoke<SetResponse__Output>((cb) =>
    h.client.Set(
      { namespace: NAMESPACE, key: 'user:1', value: Buffer.from('alice'), ttlSeconds: 60 },
      h.auth(),
      cb,
    ),
  );
  t.deepEqual(set.response, { success: true, degraded: false });

  const get = await invoke<GetResponse__Output>((cb) =>
    h.client.Get({ namespace: NAMESPACE, key: 'user:1' }, h.auth(), cb),
  );
  t.is(get.error, undefined);
  const response = get.response!;
  t.true(response.found);
  t.is(response.value.toString(), 'alice');
  t.is(response.source, 'CACHE_SOURCE_REDIS');
  t.false(response.degraded);
  t.true(response.expiresAtUnixMs >= before + 60_000 && response.expiresAtUnixMs <= Date.now() + 60_000);
});

test('a Get miss is OK with found=false and counts as a miss', async (t) => {
  const h = await startGrpcHarness(t);
  const get = await invoke<GetResponse__Output>((cb) =>
    h.client.Get({ namespace: NAMESPACE, key: 'nope' }, h.auth(), cb),
  );
  t.is(get.status.code, status.OK);
  t.deepEqual(get.response, {
    found: false,
    value: Buffer.alloc(0),
    source: 'CACHE_SOURCE_UNSPECIFIED',
    degraded: false,
    expiresAtUnixMs: 0,
  });
  t.like(h.metrics.requests, [{ transport: 'grpc', operation: 'get', namespace: NAMESPACE, result: 'miss' }]);
});

test('ttl_seconds 0 means the server default; other values reach the service in ms', async (t) => {
  const h = await startGrpcHarness(t);
  for (const ttlSeconds of [0, 90]) {
    await invoke<SetResponse__Output>((cb) =>
      h.client.Set({ namespace: NAMESPACE, key: 'k', value: Buffer.from('v'), ttlSeconds }, h.auth(), cb),
    );
  }
  await invoke<BatchSetResponse__Output>((cb) =>
    h.client.BatchSet(
      { namespace: NAMESPACE, entries: { a: Buffer.from('1') }, ttlSeconds: 0 },
      h.auth(),
      cb,
    ),
  );
  t.deepEqual(
    h.cache.calls.map((call) => call.opts),
    [
      { ttlMs: undefined, encrypt: false },
      { ttlMs: 90_000, encrypt: false },
      { ttlMs: undefined, encrypt: false },
    ],
  );
});

test('degraded answers are flagged and local hits say so', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.degraded = true;
  const set = await invoke<SetResponse__Output>((cb) =>
    h.client.Set({ namespace: NAMESPACE, key: 'k', value: Buffer.from('v') }, h.auth(), cb),
  );
  t.deepEqual(set.response, { success: true, degraded: true });

  const get = await invoke<GetResponse__Output>((cb) =>
    h.client.Get({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb),
  );
  t.like(get.response, { found: true, source: 'CACHE_SOURCE_LOCAL', degraded: true });

  const deleted = await invoke<DeleteResponse__Output>((cb) =>
    h.client.Delete({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb),
  );
  t.deepEqual(deleted.response, { deleted: true, degraded: true });
});

test('Delete reports whether the key existed', async (t) => {
  const h = await startGrpcHarness(t);
  await invoke<SetResponse__Output>((cb) =>
    h.client.Set({ namespace: NAMESPACE, key: 'k', value: Buffer.from('v') }, h.auth(), cb),
  );
  const first = await invoke<DeleteResponse__Output>((cb) =>
    h.client.Delete({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb),
  );
  const second = await invoke<DeleteResponse__Output>((cb) =>
    h.client.Delete({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb),
  );
  t.deepEqual(first.response, { deleted: true, degraded: false });
  t.deepEqual(second.response, { deleted: false, degraded: false });
  t.is(h.cache.peek(NAMESPACE, 'k'), undefined);
});

test('BatchSet stores every entry and BatchGet splits found, missing and unavailable keys', async (t) => {
  const h = await startGrpcHarness(t);
  const stored = await invoke<BatchSetResponse__Output>((cb) =>
    h.client.BatchSet(
      { namespace: NAMESPACE, entries: { a: Buffer.from('1'), b: Buffer.from('2') }, ttlSeconds: 30 },
      h.auth(),
      cb,
    ),
  );
  t.deepEqual(stored.response, { success: true, storedCount: 2, degraded: false });

  const batch = await invoke<BatchGetResponse__Output>((cb) =>
    h.client.BatchGet({ namespace: NAMESPACE, keys: ['a', 'b', 'c'] }, h.auth(), cb),
  );
  t.deepEqual(batch.response, {
    values: { a: Buffer.from('1'), b: Buffer.from('2') },
    missingKeys: ['c'],
    degraded: false,
    unavailableKeys: [],
  });

  h.cache.degraded = true;
  h.cache.unavailableKeys = new Set(['d']);
  const degraded = await invoke<BatchGetResponse__Output>((cb) =>
    h.client.BatchGet({ namespace: NAMESPACE, keys: ['a', 'c', 'd'] }, h.auth(), cb),
  );
  t.deepEqual(degraded.response, {
    values: { a: Buffer.from('1') },
    missingKeys: ['c'],
    degraded: true,
    unavailableKeys: ['d'],
  });
});

test('binary values round-trip byte for byte, alone and in batches', async (t) => {
  const h = await startGrpcHarness(t);
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const random = randomBytes(32 * 1024);
  await invoke<SetResponse__Output>((cb) =>
    h.client.Set({ namespace: NAMESPACE, key: 'bytes', value: everyByte }, h.auth(), cb),
  );
  await invoke<BatchSetResponse__Output>((cb) =>
    h.client.BatchSet({ namespace: NAMESPACE, entries: { random, empty: Buffer.alloc(0) } }, h.auth(), cb),
  );

  const get = await invoke<GetResponse__Output>((cb) =>
    h.client.Get({ namespace: NAMESPACE, key: 'bytes' }, h.auth(), cb),
  );
  t.true(get.response?.value.equals(everyByte));
  const batch = await invoke<BatchGetResponse__Output>((cb) =>
    h.client.BatchGet({ namespace: NAMESPACE, keys: ['random', 'empty', 'bytes'] }, h.auth(), cb),
  );
  t.true(batch.response?.values['random']?.equals(random));
  t.true(batch.response?.values['empty']?.equals(Buffer.alloc(0)));
  t.true(batch.response?.values['bytes']?.equals(everyByte));
});

test('Health needs no token and reports the service health', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.healthReport = {
    healthy: true,
    ready: true,
    mode: 'standalone',
    redisStatus: 'degraded',
    brokerStatus: 'disabled',
    breakerState: 'open',
    pendingWrites: 7,
  };
  const health = await invoke<HealthResponse__Output>((cb) => h.client.Health({}, metadataOf({}), cb));
  t.deepEqual(health.response, {
    healthy: true,
    redisStatus: 'degraded',
    brokerStatus: 'disabled',
    breakerState: 'open',
    pendingWrites: 7,
  });
  t.deepEqual(h.metrics.requests, [], 'Health is not a cache operation');
});

test('every cache call is counted once, by operation, namespace and result', async (t) => {
  const h = await startGrpcHarness(t);
  const md = h.auth();
  await invoke((cb) => h.client.Set({ namespace: NAMESPACE, key: 'k', value: Buffer.from('v') }, md, cb));
  await invoke((cb) => h.client.Get({ namespace: NAMESPACE, key: 'k' }, md, cb));
  await invoke((cb) => h.client.Get({ namespace: NAMESPACE, key: '' }, md, cb));
  await invoke((cb) => h.client.Delete({ namespace: NAMESPACE, key: 'k' }, md, cb));
  await invoke((cb) => h.client.BatchGet({ namespace: NAMESPACE, keys: ['k'] }, md, cb));
  await invoke((cb) => h.client.BatchSet({ namespace: NAMESPACE, entries: { k: Buffer.from('v') } }, md, cb));
  t.deepEqual(
    h.metrics.requests.map(({ transport, operation, namespace, result }) => [
      transport,
      operation,
      namespace,
      result,
    ]),
    [
      ['grpc', 'set', NAMESPACE, 'ok'],
      ['grpc', 'get', NAMESPACE, 'ok'],
      ['grpc', 'get', NAMESPACE, 'INVALID_KEY'],
      ['grpc', 'delete', NAMESPACE, 'ok'],
      ['grpc', 'batch_get', NAMESPACE, 'ok'],
      ['grpc', 'batch_set', NAMESPACE, 'ok'],
    ],
  );
  t.true(h.metrics.requests.every((request) => request.seconds >= 0 && request.seconds < 5));
});

test('the service gets a RequestContext with the correlation id and a logger bound to it', async (t) => {
  const h = await startGrpcHarness(t);
  await invoke((cb) =>
    h.client.Get(
      { namespace: NAMESPACE, key: 'k' },
      h.auth([NAMESPACE], { 'x-correlation-id': 'req-42' }),
      cb,
    ),
  );
  const [call] = h.cache.calls;
  t.is(call?.ctx.correlationId, 'req-42');
  t.is(call?.ctx.logger.bindings()['correlationId'], 'req-42');
  t.true(h.logs.some((line) => line['correlationId'] === 'req-42' && line['rpc'] === 'Get'));
});

test('map keys named like Object.prototype members are plain keys', async (t) => {
  const h = await startGrpcHarness(t);
  const names = ['__proto__', 'constructor', 'toString'];
  const entries = Object.fromEntries(names.map((name) => [name, Buffer.from(name)]));
  const stored = await invoke<BatchSetResponse__Output>((cb) =>
    h.client.BatchSet({ namespace: NAMESPACE, entries }, h.auth(), cb),
  );
  t.is(stored.response?.storedCount, 3);
  const batch = await invoke<BatchGetResponse__Output>((cb) =>
    h.client.BatchGet({ namespace: NAMESPACE, keys: [...names, 'hasOwnProperty'] }, h.auth(), cb),
  );
  t.deepEqual(Object.keys(batch.response?.values ?? {}).sort(), [...names].sort());
  t.is(batch.response?.values['__proto__']?.toString(), '__proto__');
  t.deepEqual(batch.response?.missingKeys, ['hasOwnProperty']);
});
