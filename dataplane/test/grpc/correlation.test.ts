import { Metadata, status } from '@grpc/grpc-js';
import test from 'ava';
import { invoke, metadataOf, NAMESPACE, startGrpcHarness, text, type GrpcHarness } from './grpc-harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function get(h: GrpcHarness, metadata: Metadata, key = 'k') {
  return invoke((cb) => h.client.Get({ namespace: NAMESPACE, key }, metadata, cb));
}

test('a given x-correlation-id comes back in the initial metadata', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await get(h, h.auth([NAMESPACE], { 'x-correlation-id': 'abc-123' }));
  t.is(result.status.code, status.OK);
  t.is(text(result.initial, 'x-correlation-id'), 'abc-123');
});

test('on errors the id is in both the initial and the trailing metadata', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await get(h, h.auth([NAMESPACE], { 'x-correlation-id': 'abc-456' }), '');
  t.is(result.error?.code, status.INVALID_ARGUMENT);
  t.is(text(result.initial, 'x-correlation-id'), 'abc-456');
  t.is(text(result.error?.metadata, 'x-correlation-id'), 'abc-456');
});

test('x-request-id is used when there is no x-correlation-id', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await get(h, h.auth([NAMESPACE], { 'x-request-id': 'req-789' }));
  t.is(text(result.initial, 'x-correlation-id'), 'req-789');
  t.is(h.cache.calls[0]?.ctx.correlationId, 'req-789');
});

test('x-correlation-id wins over x-request-id', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await get(h, h.auth([NAMESPACE], { 'x-request-id': 'second', 'x-correlation-id': 'first' }));
  t.is(text(result.initial, 'x-correlation-id'), 'first');
});

test('without one, a generated id is sent back and given to the service', async (t) => {
  const h = await startGrpcHarness(t);
  const ok = await get(h, h.auth());
  const generated = text(ok.initial, 'x-correlation-id');
  t.regex(generated ?? '', UUID);
  t.is(h.cache.calls[0]?.ctx.correlationId, generated);

  const failed = await get(h, new Metadata());
  t.is(failed.error?.code, status.UNAUTHENTICATED);
  t.regex(text(failed.initial, 'x-correlation-id') ?? '', UUID);
  t.is(text(failed.error?.metadata, 'x-correlation-id'), text(failed.initial, 'x-correlation-id'));
  t.not(text(failed.initial, 'x-correlation-id'), generated);
});

test('an unreasonable id is replaced, not echoed', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await get(h, h.auth([NAMESPACE], { 'x-correlation-id': 'x'.repeat(200) }));
  t.regex(text(result.initial, 'x-correlation-id') ?? '', UUID);
});

test('Health echoes the correlation id too', async (t) => {
  const h = await startGrpcHarness(t);
  const result = await invoke((cb) => h.client.Health({}, metadataOf({ 'x-correlation-id': 'probe-1' }), cb));
  t.is(text(result.initial, 'x-correlation-id'), 'probe-1');
});

test('the call is logged with its correlation id, whatever the outcome', async (t) => {
  const h = await startGrpcHarness(t);
  await get(h, h.auth([NAMESPACE], { 'x-correlation-id': 'logged-ok' }));
  await get(h, metadataOf({ 'x-correlation-id': 'logged-denied' }));
  const lines = (id: string) => h.logs.filter((line) => line['correlationId'] === id);
  t.true(lines('logged-ok').some((line) => line['result'] === 'miss'));
  t.true(lines('logged-denied').some((line) => line['result'] === 'UNAUTHORIZED'));
});
