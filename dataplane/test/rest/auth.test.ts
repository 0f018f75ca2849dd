import test from 'ava';
import { PrometheusMetrics } from '../../src/observability/metrics.ts';
import { makeToken, TOKEN_KINDS, type TokenKind } from './jwt-tokens.ts';
import { NAMESPACE, batchPath, keyPath, startRestHarness } from './rest-harness.ts';

const spec = (kind: TokenKind) => ({ kind, namespaces: [NAMESPACE], offsetSeconds: 3600, subject: 'tester' });

test('no Authorization header is a 401 UNAUTHORIZED', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('GET', keyPath('k'), { token: null });
  t.is(response.status, 401);
  t.like(response.json, { code: 'UNAUTHORIZED' });
  t.regex((response.json as { message: string }).message, /Bearer/);
});

test('an Authorization header that is not "Bearer <JWT>" is a 401', async (t) => {
  const api = await startRestHarness(t);
  for (const authorization of [
    'Basic dXNlcjpwYXNz',
    `bearer ${api.token()}`,
    'Bearer',
    'Bearer a.b',
    'Bearer a.b.c.d',
    `Bearer  ${api.token()}`,
  ]) {
    const response = await api.request('GET', keyPath('k'), { headers: { authorization } });
    t.is(response.status, 401, authorization);
  }
});

for (const kind of TOKEN_KINDS.filter((each) => each !== 'valid')) {
  test(`a ${kind} token is a 401 on every cache route`, async (t) => {
    const api = await startRestHarness(t);
    const token = makeToken(spec(kind));
    const responses = await Promise.all([
      api.request('GET', keyPath('k'), { token }),
      api.request('PUT', keyPath('k'), { token, body: { value: 'v' } }),
      api.request('DELETE', keyPath('k'), { token }),
      api.request('POST', batchPath('get'), { token, body: { keys: ['k'] } }),
      api.request('POST', batchPath('set'), { token, body: { entries: { k: { value: 'v' } } } }),
    ]);
    for (const response of responses) {
      t.is(response.status, 401, response.text);
      t.like(response.json, { code: 'UNAUTHORIZED' });
    }
    t.is(api.cache.calls.length, 0);
  });
}

test('a valid token for another namespace is a 403 FORBIDDEN', async (t) => {
  const api = await startRestHarness(t);
  const token = api.token(['team-b']);
  const response = await api.request('GET', keyPath('k'), { token });
  t.is(response.status, 403);
  t.like(response.json, { code: 'FORBIDDEN' });
  t.is((await api.request('GET', keyPath('k', 'team-b'), { token })).status, 404, 'its own namespace works');
});

test('401 comes before 403, which comes before any problem with the request', async (t) => {
  const api = await startRestHarness(t);
  const bad = { body: '{not json' };
  t.is((await api.request('PUT', keyPath('k', 'team-b'), { ...bad, token: null })).status, 401);
  t.is((await api.request('PUT', keyPath('k', 'team-b'), bad)).status, 403);
  t.is((await api.request('PUT', keyPath('k'), bad)).status, 400);
  const tooBig = { body: { value: 'x'.repeat(1024 * 1024) } };
  t.is((await api.request('PUT', keyPath('k'), { ...tooBig, token: 'garbage' })).status, 401);
  t.is((await api.request('PUT', keyPath('k', 'team-b'), tooBig)).status, 403);
  const text = { body: 'v', headers: { 'content-type': 'text/plain' } };
  t.is((await api.request('PUT', keyPath('k', 'team-b'), text)).status, 403);
});

test('a malformed namespace is a 403 unless the token grants it, then a 400 NAMESPACE_INVALID', async (t) => {
  const api = await startRestHarness(t);
  const path = keyPath('k', 'Not_A_Label');
  const notGranted = await api.request('GET', path);
  t.is(notGranted.status, 403);
  t.like(notGranted.json, { code: 'FORBIDDEN' });
  const granted = await api.request('GET', path, { token: api.token(['Not_A_Label']) });
  t.is(granted.status, 400);
  t.like(granted.json, { code: 'NAMESPACE_INVALID' });
});

test('the operational routes need no token', async (t) => {
  const api = await startRestHarness(t, { metrics: new PrometheusMetrics({ defaultMetrics: false }) });
  for (const path of ['/health', '/ready', '/metrics', '/openapi.json']) {
    t.is((await api.request('GET', path, { token: null })).status, 200, path);
  }
});

test('the Authorization header never reaches the log', async (t) => {
  const api = await startRestHarness(t);
  const token = api.token();
  await api.request('PUT', keyPath('k'), { token, body: { value: 'the-secret-value' } });
  await api.request('GET', keyPath('k'), { token: 'garbage' });
  const logs = JSON.stringify(api.logs);
  t.false(logs.includes(token.split('.')[2] ?? token));
  t.false(logs.includes('garbage'));
  t.false(logs.includes('the-secret-value'));
});
