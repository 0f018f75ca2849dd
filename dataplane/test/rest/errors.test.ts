import test, { type ExecutionContext } from 'ava';
import { CacheError, ErrorCode } from '../../src/errors.ts';
import {
  MAX_REQUEST_BYTES,
  NAMESPACE,
  batchPath,
  keyPath,
  startRestHarness,
  type RestResponse,
} from './rest-harness.ts';

/** An error response: the status, the JSON body {code, message, correlationId}, the header. */
function assertError(t: ExecutionContext, response: RestResponse, status: number, code: string): void {
  t.is(response.status, status, response.text);
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = response.json as Record<string, unknown>;
  t.deepEqual(Object.keys(body).sort(), ['code', 'correlationId', 'message']);
  t.is(body['code'], code);
  t.is(typeof body['message'], 'string');
  t.not(body['message'], '');
  t.is(body['correlationId'], response.headers.get('x-correlation-id'));
}

test('a miss is a 404 KEY_NOT_FOUND', async (t) => {
  const api = await startRestHarness(t);
  assertError(t, await api.request('GET', keyPath('nothing')), 404, 'KEY_NOT_FOUND');
});

test('malformed JSON, a scalar body and a missing body are 400 INVALID_REQUEST', async (t) => {
  const api = await startRestHarness(t);
  const malformed = await api.request('PUT', keyPath('k'), { body: '{"value": "x"' });
  assertError(t, malformed, 400, 'INVALID_REQUEST');
  t.regex((malformed.json as { message: string }).message, /malformed JSON/);
  assertError(t, await api.request('PUT', keyPath('k'), { body: '"just a string"' }), 400, 'INVALID_REQUEST');
  assertError(t, await api.request('PUT', keyPath('k'), { body: '[1, 2]' }), 400, 'INVALID_REQUEST');
  assertError(t, await api.request('POST', batchPath('get'), { body: '{"keys": [' }), 400, 'INVALID_REQUEST');
  assertError(t, await api.request('PUT', keyPath('k')), 400, 'INVALID_REQUEST');
  t.is(api.cache.peek(NAMESPACE, 'k'), undefined);
});

test('a body that is not application/json is a 415', async (t) => {
  const api = await startRestHarness(t);
  const text = await api.request('PUT', keyPath('k'), {
    body: 'hello',
    headers: { 'content-type': 'text/plain' },
  });
  assertError(t, text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  const form = await api.request('POST', batchPath('get'), {
    body: 'keys=a',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assertError(t, form, 415, 'UNSUPPORTED_MEDIA_TYPE');
  const charset = await api.request('PUT', keyPath('k'), {
    body: '{"value":"x"}',
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
  t.is(charset.status, 200, 'parameters of application/json are fine');
  const encoding = await api.request('PUT', keyPath('k'), {
    body: '{"value":"x"}',
    headers: { 'content-encoding': 'compress' },
  });
  assertError(t, encoding, 415, 'UNSUPPORTED_MEDIA_TYPE');
});

test('bad base64 is a 400 INVALID_VALUE', async (t) => {
  const api = await startRestHarness(t);
  for (const value of ['@@@@', 'AAE', 'AA=A', 'AAEC\n', ' AAEC', 'AA-_', 'QR==', 'AAEC====']) {
    const response = await api.request('PUT', keyPath('k'), { body: { value, encoding: 'base64' } });
    assertError(t, response, 400, 'INVALID_VALUE');
  }
  const batch = await api.request('POST', batchPath('set'), {
    body: {
      entries: { good: { value: 'AAEC', encoding: 'base64' }, bad: { value: 'A', encoding: 'base64' } },
    },
  });
  assertError(t, batch, 400, 'INVALID_VALUE');
  t.is(api.cache.peek(NAMESPACE, 'good'), undefined, 'nothing of the batch was written');
  t.is(api.cache.calls.length, 0);
});

test('a value that is not well-formed Unicode text is a 400 INVALID_VALUE', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('PUT', keyPath('k'), { body: '{"value": "\\ud800"}' });
  assertError(t, response, 400, 'INVALID_VALUE');
});

test('a bad TTL is a 400 TTL_INVALID: 0, -1, 1.5, "10", null', async (t) => {
  const api = await startRestHarness(t);
  for (const ttlSeconds of [0, -1, 1.5, '10', null, 1e300]) {
    assertError(
      t,
      await api.request('PUT', keyPath('k'), { body: { value: 'v', ttlSeconds } }),
      400,
      'TTL_INVALID',
    );
    const batch = await api.request('POST', batchPath('set'), {
      body: { entries: { k: { value: 'v' } }, ttlSeconds },
    });
    assertError(t, batch, 400, 'TTL_INVALID');
  }
  assertError(
    t,
    await api.request('PUT', keyPath('k'), { body: { value: 'v', ttlSeconds: 31 * 24 * 3600 } }),
    400,
    'TTL_INVALID',
  );
  t.is(api.cache.peek(NAMESPACE, 'k'), undefined);
});

test('unknown and mistyped fields are a 400', async (t) => {
  const api = await startRestHarness(t);
  const unknown = await api.request('PUT', keyPath('k'), { body: { value: 'v', ttl: 10 } });
  assertError(t, unknown, 400, 'INVALID_REQUEST');
  t.regex((unknown.json as { message: string }).message, /"ttl"/);
  assertError(
    t,
    await api.request('PUT', keyPath('k'), { body: { value: 'v', encoding: 'hex' } }),
    400,
    'INVALID_REQUEST',
  );
  assertError(
    t,
    await api.request('PUT', keyPath('k'), { body: { value: 'v', encrypt: 'yes' } }),
    400,
    'INVALID_REQUEST',
  );
  assertError(t, await api.request('PUT', keyPath('k'), { body: { value: 42 } }), 400, 'INVALID_VALUE');
  assertError(t, await api.request('PUT', keyPath('k'), { body: {} }), 400, 'INVALID_VALUE');
  assertError(
    t,
    await api.request('POST', batchPath('get'), { body: { keys: 'a' } }),
    400,
    'INVALID_REQUEST',
  );
  assertError(
    t,
    await api.request('POST', batchPath('get'), { body: { keys: ['a'], extra: 1 } }),
    400,
    'INVALID_REQUEST',
  );
  assertError(
    t,
    await api.request('POST', batchPath('set'), { body: { entries: { a: { value: 'v', ttlSeconds: 1 } } } }),
    400,
    'INVALID_REQUEST',
  );
  assertError(t, await api.request('GET', `${keyPath('k')}?encoding=hex`), 400, 'INVALID_REQUEST');
  assertError(
    t,
    await api.request('GET', `${keyPath('k')}?encoding=utf8&encoding=base64`),
    400,
    'INVALID_REQUEST',
  );
  t.is(api.cache.calls.length, 0);
});

test('validation by the service comes back as its 4xx: empty batch, too large a batch, too long a key', async (t) => {
  const api = await startRestHarness(t, { limits: { maxBatchSize: 2, maxKeyBytes: 8 } });
  assertError(t, await api.request('POST', batchPath('get'), { body: { keys: [] } }), 400, 'INVALID_REQUEST');
  assertError(
    t,
    await api.request('POST', batchPath('get'), { body: { keys: ['a', 'b', 'c'] } }),
    400,
    'BATCH_TOO_LARGE',
  );
  assertError(
    t,
    await api.request('PUT', keyPath('123456789'), { body: { value: 'v' } }),
    400,
    'INVALID_KEY',
  );
  assertError(t, await api.request('POST', batchPath('get'), { body: { keys: [''] } }), 400, 'INVALID_KEY');
});

test('a JSON body with a "__proto__" member is refused (prototype-poisoning guard), so batch set cannot write that key', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('POST', batchPath('set'), {
    body: '{"entries": {"__proto__": {"value": "v"}}}',
  });
  assertError(t, response, 400, 'INVALID_REQUEST');
  t.is((await api.request('PUT', keyPath('__proto__'), { body: { value: 'v' } })).status, 200, 'PUT can');
});

test('a malformed percent-escape in the key is a 400 INVALID_KEY', async (t) => {
  const api = await startRestHarness(t);
  assertError(t, await api.request('GET', `/api/v1/cache/${NAMESPACE}/%E0%A4%A`), 400, 'INVALID_KEY');
  assertError(t, await api.request('GET', `/api/v1/cache/${NAMESPACE}/100%`), 400, 'INVALID_KEY');
  t.is(api.cache.calls.length, 0);
});

test('a body over the request limit is a 413, and so is a value over the value limit', async (t) => {
  const api = await startRestHarness(t, { limits: { maxValueBytes: 1024 } });
  const huge = await api.request('PUT', keyPath('k'), { body: { value: 'x'.repeat(MAX_REQUEST_BYTES + 1) } });
  assertError(t, huge, 413, 'PAYLOAD_TOO_LARGE');
  t.regex((huge.json as { message: string }).message, new RegExp(`${MAX_REQUEST_BYTES} bytes`));
  const chunked = await fetch(`${api.baseUrl}${keyPath('k')}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${api.token()}`, 'content-type': 'application/json' },
    body: new Blob([JSON.stringify({ value: 'y'.repeat(MAX_REQUEST_BYTES * 2) })]).stream(),
    duplex: 'half',
  });
  t.is(chunked.status, 413, 'without a Content-Length, counted while reading');
  const bigValue = await api.request('PUT', keyPath('k'), { body: { value: 'x'.repeat(1025) } });
  assertError(t, bigValue, 413, 'PAYLOAD_TOO_LARGE');
  t.is(api.cache.peek(NAMESPACE, 'k'), undefined);
});

test('encrypt: true is passed through and answered 501 ENCRYPTION_UNAVAILABLE', async (t) => {
  const api = await startRestHarness(t);
  assertError(
    t,
    await api.request('PUT', keyPath('k'), { body: { value: 'v', encrypt: true } }),
    501,
    'ENCRYPTION_UNAVAILABLE',
  );
  t.deepEqual(api.cache.calls.at(-1)?.opts, { ttlMs: undefined, encrypt: true });
  const batch = await api.request('POST', batchPath('set'), {
    body: { entries: { k: { value: 'v' } }, encrypt: true },
  });
  assertError(t, batch, 501, 'ENCRYPTION_UNAVAILABLE');
});

test('an unknown route is a 404 ROUTE_NOT_FOUND, also without a token', async (t) => {
  const api = await startRestHarness(t);
  assertError(t, await api.request('GET', '/nope', { token: null }), 404, 'ROUTE_NOT_FOUND');
  assertError(t, await api.request('GET', `/api/v1/cache/${NAMESPACE}`), 404, 'ROUTE_NOT_FOUND');
  assertError(t, await api.request('GET', `/api/v1/cache/${NAMESPACE}/`), 404, 'ROUTE_NOT_FOUND');
  assertError(t, await api.request('GET', `/API/v1/cache/${NAMESPACE}/k`), 404, 'ROUTE_NOT_FOUND');
  assertError(t, await api.request('GET', '/openapi.yaml'), 404, 'ROUTE_NOT_FOUND');
});

test('a wrong method is a 405 with Allow', async (t) => {
  const api = await startRestHarness(t);
  const post = await api.request('POST', keyPath('k'), { body: { value: 'v' } });
  assertError(t, post, 405, 'METHOD_NOT_ALLOWED');
  t.is(post.headers.get('allow'), 'HEAD, GET, PUT, DELETE');
  const patch = await api.request('PATCH', keyPath('k'), { body: { value: 'v' } });
  assertError(t, patch, 405, 'METHOD_NOT_ALLOWED');
  const batch = await api.request('PUT', batchPath('get'), { body: { value: 'v' } });
  t.is(batch.status, 200, 'PUT of …/batch/get writes the key "batch/get"');
  const health = await api.request('DELETE', '/health');
  assertError(t, health, 405, 'METHOD_NOT_ALLOWED');
  t.is(health.headers.get('allow'), 'HEAD, GET');
  t.is(api.cache.calls.filter((call) => call.method !== 'set').length, 0);
});

test('a method the server does not know is a 501 METHOD_NOT_IMPLEMENTED', async (t) => {
  const api = await startRestHarness(t);
  assertError(t, await api.request('PROPFIND', keyPath('k')), 501, 'METHOD_NOT_IMPLEMENTED');
});

test('an unexpected failure is a generic 500 INTERNAL, logged with its stack', async (t) => {
  const api = await startRestHarness(t);
  api.cache.failure = { error: new TypeError('secret internals: cannot read x of undefined') };
  const response = await api.request('GET', keyPath('k'), { headers: { 'x-correlation-id': 'boom-1' } });
  assertError(t, response, 500, 'INTERNAL');
  t.is((response.json as { message: string }).message, 'internal error');
  t.notRegex(response.text, /secret internals/);
  const logged = api.logs.find((line) => line['level'] === 'error');
  t.like(logged, {
    correlationId: 'boom-1',
    err: { type: 'TypeError', message: 'secret internals: cannot read x of undefined' },
  });
  t.regex(String((logged?.['err'] as { stack?: string }).stack), /TypeError/);
});

test('a synchronous throw from the service is caught the same way', async (t) => {
  const api = await startRestHarness(t);
  api.cache.failure = { error: new Error('sync'), sync: true };
  assertError(t, await api.request('DELETE', keyPath('k')), 500, 'INTERNAL');
});

test('service errors keep their status: 503 while Redis is out and the local cache cannot answer', async (t) => {
  const api = await startRestHarness(t);
  api.cache.failure = {
    error: new CacheError(ErrorCode.CircuitOpen, 'Redis is unreachable and the key is not held locally'),
  };
  const response = await api.request('GET', keyPath('k'));
  assertError(t, response, 503, 'CIRCUIT_OPEN');
  t.regex((response.json as { message: string }).message, /Redis is unreachable/);
  t.true(api.logs.some((line) => line['level'] === 'warn' && line['code'] === 'CIRCUIT_OPEN'));
});
