import test from 'ava';
import { PrometheusMetrics } from '../../src/observability/metrics.ts';
import { openApiDocument, responseBodySchema } from './openapi-validator.ts';
import { keyPath, startRestHarness } from './rest-harness.ts';

test('GET /health reports ok with the health report', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('GET', '/health', { token: null });
  t.is(response.status, 200);
  t.deepEqual(response.json, {
    status: 'ok',
    healthy: true,
    ready: true,
    mode: 'embedded',
    redisStatus: 'embedded',
    brokerStatus: 'disabled',
    breakerState: 'none',
    pendingWrites: 0,
  });
  responseBodySchema('/health', 'get', 200).parse(response.json);
});

test('GET /health is degraded while the local cache stands in, and 503 when not healthy', async (t) => {
  const api = await startRestHarness(t);
  const degraded = {
    ...api.cache.healthReport,
    mode: 'standalone' as const,
    redisStatus: 'degraded' as const,
  };
  api.cache.healthReport = { ...degraded, breakerState: 'open', pendingWrites: 3 };
  const serving = await api.request('GET', '/health');
  t.is(serving.status, 200);
  t.like(serving.json, { status: 'degraded', healthy: true, pendingWrites: 3 });

  api.cache.healthReport = { ...degraded, healthy: false, ready: false, redisStatus: 'down' };
  const down = await api.request('GET', '/health');
  t.is(down.status, 503);
  t.like(down.json, { status: 'degraded', healthy: false });
  responseBodySchema('/health', 'get', 503).parse(down.json);
});

test('GET /ready follows health().ready', async (t) => {
  const api = await startRestHarness(t);
  const ready = await api.request('GET', '/ready', { token: null });
  t.is(ready.status, 200);
  t.deepEqual(ready.json, { ready: true });
  api.cache.healthReport = { ...api.cache.healthReport, ready: false };
  const notReady = await api.request('GET', '/ready');
  t.is(notReady.status, 503);
  t.deepEqual(notReady.json, { ready: false });
});

test('the metrics path serves the Prometheus exposition, with the REST requests counted', async (t) => {
  const api = await startRestHarness(t, {
    metrics: new PrometheusMetrics({ defaultMetrics: false }),
    metricsPath: '/internal/metrics',
  });
  await api.request('GET', keyPath('absent'));
  const response = await api.request('GET', '/internal/metrics', { token: null });
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^text\/plain/);
  t.regex(
    response.text,
    /cacheplane_requests_total\{transport="rest",operation="get",namespace="team-a",result="miss"\} 1/,
  );
  t.is((await api.request('GET', '/metrics')).status, 404);
});

test('the metrics path is a 404 when metrics are disabled', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('GET', '/metrics');
  t.is(response.status, 404);
  t.like(response.json, { code: 'ROUTE_NOT_FOUND' });
  t.regex((response.json as { message: string }).message, /METRICS_ENABLED/);
});

test('GET /openapi.json serves the document', async (t) => {
  const api = await startRestHarness(t);
  const response = await api.request('GET', '/openapi.json', { token: null });
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
  t.deepEqual(response.json, openApiDocument);
  t.is(openApiDocument['openapi'], '3.1.0');
});
