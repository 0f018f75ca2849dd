import test from 'ava';
import { keyPath, startRestHarness } from './rest-harness.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a given x-correlation-id is echoed on success and on error, and reaches the service', async (t) => {
  const api = await startRestHarness(t);
  const ok = await api.request('PUT', keyPath('k'), {
    body: { value: 'v' },
    headers: { 'x-correlation-id': 'order-123' },
  });
  t.is(ok.headers.get('x-correlation-id'), 'order-123');
  t.is(api.cache.calls.at(-1)?.ctx.correlationId, 'order-123');

  const miss = await api.request('GET', keyPath('missing'), { headers: { 'x-correlation-id': 'order-124' } });
  t.is(miss.status, 404);
  t.is(miss.headers.get('x-correlation-id'), 'order-124');
  t.like(miss.json, { correlationId: 'order-124' });

  const unauthorized = await api.request('GET', keyPath('k'), {
    token: null,
    headers: { 'x-correlation-id': 'order-125' },
  });
  t.is(unauthorized.status, 401);
  t.is(unauthorized.headers.get('x-correlation-id'), 'order-125');
  t.like(unauthorized.json, { correlationId: 'order-125' });
});

test('x-request-id is used when there is no x-correlation-id', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('GET', '/nope', { headers: { 'x-request-id': 'req-9' } });
  t.is(response.status, 404);
  t.is(response.headers.get('x-correlation-id'), 'req-9');
  t.like(response.json, { correlationId: 'req-9' });
  const both = await api.request('GET', '/health', {
    headers: { 'x-request-id': 'req-10', 'x-correlation-id': 'corr-10' },
  });
  t.is(both.headers.get('x-correlation-id'), 'corr-10');
});

test('without a usable id a UUID is generated, on success and on error alike', async (t) => {
  const api = await startRestHarness(t);
  const ok = await api.request('GET', '/health');
  t.regex(ok.headers.get('x-correlation-id') ?? '', UUID);
  const error = await api.request('PUT', keyPath('k'), { body: '{' });
  t.is(error.status, 400);
  const generated = error.headers.get('x-correlation-id') ?? '';
  t.regex(generated, UUID);
  t.like(error.json, { correlationId: generated });
  t.not(generated, ok.headers.get('x-correlation-id'));
  const unsafe = await api.request('GET', '/health', {
    headers: { 'x-correlation-id': 'has spaces <script>' },
  });
  t.regex(unsafe.headers.get('x-correlation-id') ?? '', UUID);
  const tooLong = await api.request('GET', '/health', { headers: { 'x-correlation-id': 'a'.repeat(129) } });
  t.regex(tooLong.headers.get('x-correlation-id') ?? '', UUID);
});

test('one access log line per request, with the correlation id, method, route, status and duration', async (t) => {
  const api = await startRestHarness(t);
  await api.request('PUT', keyPath('secret/key'), {
    body: { value: 'private value' },
    headers: { 'x-correlation-id': 'log-1' },
  });
  await api.request('GET', keyPath('absent'), { headers: { 'x-correlation-id': 'log-2' } });
  await api.request('GET', '/nope', { headers: { 'x-correlation-id': 'log-3' } });

  const accessLines = api.logs.filter((line) => line['msg'] === 'request');
  t.is(accessLines.length, 3);
  const [put, get, unmatched] = accessLines;
  t.like(put, {
    level: 'info',
    correlationId: 'log-1',
    method: 'PUT',
    route: '/api/v1/cache/:namespace/*key',
    status: 200,
  });
  t.is(typeof put?.['durationMs'], 'number');
  t.like(get, { correlationId: 'log-2', method: 'GET', status: 404, code: 'KEY_NOT_FOUND' });
  t.like(unmatched, { correlationId: 'log-3', route: '(unmatched)', status: 404, code: 'ROUTE_NOT_FOUND' });
  const text = JSON.stringify(api.logs);
  t.false(text.includes('secret/key') || text.includes('secret%2Fkey'), 'keys are not logged');
  t.false(text.includes('private value'), 'values are not logged');
});

test('every log line of a request carries its correlation id, the service logger included', async (t) => {
  const api = await startRestHarness(t);
  await api.request('GET', keyPath('k'), { headers: { 'x-correlation-id': 'svc-1' } });
  api.cache.calls.at(-1)?.ctx.logger.info('from the service');
  const line = api.logs.find((each) => each['msg'] === 'from the service');
  t.is(line?.['correlationId'], 'svc-1');
  t.true(api.logs.every((each) => typeof each['correlationId'] === 'string'));
});
