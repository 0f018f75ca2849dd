import { status, type Metadata, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { JwtVerifier } from '../../src/auth/jwt-verifier.ts';
import { CacheError, ErrorCode } from '../../src/errors.ts';
import type { GetRequest__Output } from '../../src/generated/cache/v1/GetRequest.ts';
import type { GetResponse } from '../../src/generated/cache/v1/GetResponse.ts';
import { createCacheHandlers } from '../../src/grpc/cache-handlers.ts';
import { ERROR_CODE_METADATA } from '../../src/grpc/grpc-failure.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { FakeCacheService } from '../support/fake-cache-service.ts';
import {
  bearer,
  invoke,
  NAMESPACE,
  RecordingMetrics,
  SECRET,
  startGrpcHarness,
  text,
  token,
  type GrpcHarness,
  type UnaryResult,
} from './grpc-harness.ts';

function set(
  h: GrpcHarness,
  request: { key?: string; value?: Buffer; ttlSeconds?: number; encrypt?: boolean },
) {
  return invoke((cb) =>
    h.client.Set({ namespace: NAMESPACE, key: 'k', value: Buffer.from('v'), ...request }, h.auth(), cb),
  );
}

function assertRejected(
  t: ExecutionContext,
  result: UnaryResult<unknown>,
  code: status,
  errorCode: string,
  details: RegExp,
): void {
  t.is(result.error?.code, code, result.error?.details);
  t.regex(result.error?.details ?? '', details);
  t.is(text(result.error?.metadata, ERROR_CODE_METADATA), errorCode);
}

test('bad keys, values, TTLs and batches are INVALID_ARGUMENT and change nothing', async (t) => {
  const h = await startGrpcHarness(t, { limits: { maxValueBytes: 1024, maxBatchSize: 3 } });
  assertRejected(t, await set(h, { key: '' }), status.INVALID_ARGUMENT, 'INVALID_KEY', /key is empty/);
  assertRejected(
    t,
    await set(h, { value: Buffer.alloc(1025) }),
    status.INVALID_ARGUMENT,
    'PAYLOAD_TOO_LARGE',
    /1025 bytes; the limit is 1024/,
  );
  assertRejected(
    t,
    await set(h, { ttlSeconds: -5 }),
    status.INVALID_ARGUMENT,
    'TTL_INVALID',
    /ttl -5s is invalid/,
  );
  assertRejected(
    t,
    await invoke((cb) => h.client.BatchGet({ namespace: NAMESPACE, keys: [] }, h.auth(), cb)),
    status.INVALID_ARGUMENT,
    'INVALID_REQUEST',
    /batch is empty/,
  );
  assertRejected(
    t,
    await invoke((cb) =>
      h.client.BatchGet({ namespace: NAMESPACE, keys: ['a', 'b', 'c', 'd'] }, h.auth(), cb),
    ),
    status.INVALID_ARGUMENT,
    'BATCH_TOO_LARGE',
    /4 keys; the limit is 3/,
  );
  assertRejected(
    t,
    await invoke((cb) =>
      h.client.BatchSet(
        { namespace: NAMESPACE, entries: { ok: Buffer.from('v'), '': Buffer.from('v') } },
        h.auth(),
        cb,
      ),
    ),
    status.INVALID_ARGUMENT,
    'INVALID_KEY',
    /key is empty/,
  );
  t.is(h.cache.peek(NAMESPACE, 'k'), undefined);
  t.is(h.cache.peek(NAMESPACE, 'ok'), undefined);
});

test('an invalid namespace the token grants is INVALID_ARGUMENT', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await invoke((cb) =>
    h.client.Get({ namespace: 'Not_A_Label', key: 'k' }, bearer(token(['Not_A_Label'])), cb),
  );
  assertRejected(
    t,
    result,
    status.INVALID_ARGUMENT,
    'NAMESPACE_INVALID',
    /namespace "Not_A_Label" is invalid/,
  );
});

test('encryption requested before it is available is UNIMPLEMENTED', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await set(h, { encrypt: true });
  assertRejected(t, result, status.UNIMPLEMENTED, 'ENCRYPTION_UNAVAILABLE', /encryption is not available/);
  t.is(h.cache.peek(NAMESPACE, 'k'), undefined);
});

test('Redis outages and a full journal map through the error table', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.failure = {
    error: new CacheError(
      ErrorCode.RedisUnavailable,
      'Redis is unreachable and the key is not cached locally',
    ),
  };
  assertRejected(
    t,
    await invoke((cb) => h.client.Get({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb)),
    status.UNAVAILABLE,
    'REDIS_UNAVAILABLE',
    /Redis is unreachable/,
  );
  h.cache.failure = {
    error: new CacheError(ErrorCode.DegradedJournalFull, 'the degraded write journal is full'),
  };
  assertRejected(t, await set(h, {}), status.RESOURCE_EXHAUSTED, 'DEGRADED_JOURNAL_FULL', /journal is full/);
  t.deepEqual(
    h.metrics.requests.map((request) => request.result),
    ['REDIS_UNAVAILABLE', 'DEGRADED_JOURNAL_FULL'],
  );
  t.true(h.logs.some((line) => line['level'] === 'warn' && line['code'] === 'REDIS_UNAVAILABLE'));
});

test('unknown errors are INTERNAL with a generic message; the details only reach the log', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.failure = { error: new TypeError('secret internals: password=hunter2') };
  const result = await invoke((cb) =>
    h.client.Get(
      { namespace: NAMESPACE, key: 'k' },
      h.auth([NAMESPACE], { 'x-correlation-id': 'boom-1' }),
      cb,
    ),
  );
  assertRejected(t, result, status.INTERNAL, 'INTERNAL', /^internal error$/);
  const logged = h.logs.find((line) => line['level'] === 'error');
  t.is(logged?.['correlationId'], 'boom-1');
  t.regex(JSON.stringify(logged?.['err']), /secret internals/);
  t.deepEqual(
    h.metrics.requests.map((request) => request.result),
    ['INTERNAL'],
  );
});

test('a service that throws synchronously still gets INTERNAL over the wire', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.failure = { error: new Error('thrown synchronously'), sync: true };
  const result = await invoke((cb) => h.client.Get({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb));
  assertRejected(t, result, status.INTERNAL, 'INTERNAL', /^internal error$/);
});

/** Calls the Get handler directly and counts its callbacks (the wire would hide a second one). */
async function callbacksOfGet(
  cache: FakeCacheService,
  callbackThrows = false,
): Promise<Array<Parameters<sendUnaryData<GetResponse>>>> {
  const handlers = createCacheHandlers({
    cache,
    verifier: new JwtVerifier({ secret: SECRET }),
    metrics: new RecordingMetrics(),
    logger: createLogger('silent'),
  });
  const call = {
    request: { namespace: NAMESPACE, key: 'k' },
    metadata: bearer(token([NAMESPACE])),
    sendMetadata: (_metadata: Metadata) => {},
  } as unknown as ServerUnaryCall<GetRequest__Output, GetResponse>;
  const answers: Array<Parameters<sendUnaryData<GetResponse>>> = [];
  handlers.Get(call, (...args) => {
    answers.push(args);
    if (callbackThrows) throw new Error('the callback failed');
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  return answers;
}

test('the callback is called exactly once: success, rejection and synchronous throw', async (t) => {
  const ok = new FakeCacheService();
  t.is((await callbacksOfGet(ok)).length, 1);

  const rejecting = new FakeCacheService();
  rejecting.failure = { error: new Error('rejected') };
  const rejected = await callbacksOfGet(rejecting);
  t.is(rejected.length, 1);
  t.like(rejected[0]?.[0], { code: status.INTERNAL });

  const throwing = new FakeCacheService();
  throwing.failure = { error: new Error('thrown'), sync: true };
  const thrown = await callbacksOfGet(throwing);
  t.is(thrown.length, 1);
  t.like(thrown[0]?.[0], { code: status.INTERNAL });

  t.is(
    (await callbacksOfGet(new FakeCacheService(), true)).length,
    1,
    'a failing callback is not called again',
  );
});
