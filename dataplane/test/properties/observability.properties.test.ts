// SEED-DESIGN properties 13 and 14 through the whole data plane (REST over a real socket) against
// real Redis: counters and histograms match what was done, and every log line of a request carries
// its correlation id.
import anyTest, { type TestFn } from 'ava';
import fc from 'fast-check';
import type { PrometheusMetrics } from '../../src/observability/metrics.ts';
import { PROPERTY_RUNS, counterValue, freshNamespace, standaloneEnv } from '../support/cache-fixture.ts';
import { startRedisStandalone, type RedisServerHandle } from '../support/redis-harness.ts';
import { startTestDataPlane, type TestDataPlane } from '../support/test-data-plane.ts';

const test = anyTest as TestFn<{ redis: RedisServerHandle; plane: TestDataPlane }>;

test.before(async (t) => {
  t.context.redis = await startRedisStandalone();
  t.context.plane = await startTestDataPlane(standaloneEnv(t.context.redis));
});

test.after.always(async (t) => {
  await t.context.plane?.stop();
  await t.context.redis?.stop();
});

type Step = { kind: 'put' | 'get' | 'delete'; key: number };

async function run(plane: TestDataPlane, namespace: string, step: Step, headers: Record<string, string>) {
  const url = `${plane.baseUrl}/api/v1/cache/${namespace}/k${step.key}`;
  const authorization = `Bearer ${plane.token([namespace])}`;
  const init: RequestInit =
    step.kind === 'put'
      ? {
          method: 'PUT',
          headers: { ...headers, authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ value: `v${step.key}`, ttlSeconds: 60 }),
        }
      : { method: step.kind === 'get' ? 'GET' : 'DELETE', headers: { ...headers, authorization } };
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response;
}

const steps = fc.array(
  fc.record({
    kind: fc.constantFrom('put' as const, 'get' as const, 'delete' as const),
    key: fc.nat({ max: 3 }),
  }),
  { minLength: 1, maxLength: 12 },
);

test.serial('Property 13: Metrics Accuracy', async (t) => {
  const { plane } = t.context;
  const metrics = plane.dataPlane.metrics as PrometheusMetrics;
  const histogramCount = async (operation: string) => {
    const metric = await metrics.registry.getSingleMetric('cacheplane_request_duration_seconds')?.get();
    return (metric?.values ?? [])
      .filter(
        (sample) =>
          (sample as { metricName?: string }).metricName?.endsWith('_count') === true &&
          sample.labels['operation'] === operation,
      )
      .reduce((sum, sample) => sum + sample.value, 0);
  };
  await fc.assert(
    fc.asyncProperty(steps, async (sequence) => {
      const namespace = freshNamespace('p13');
      const before = { get: await histogramCount('get'), set: await histogramCount('set') };
      const present = new Set<number>();
      const expected = { hits: 0, misses: 0, gets: 0, sets: 0 };
      for (const step of sequence) {
        const response = await run(plane, namespace, step, {});
        if (step.kind === 'put') {
          present.add(step.key);
          expected.sets += 1;
        } else if (step.kind === 'delete') {
          present.delete(step.key);
        } else {
          expected.gets += 1;
          if (present.has(step.key)) expected.hits += 1;
          else expected.misses += 1;
          if (response.status !== (present.has(step.key) ? 200 : 404)) return false;
        }
      }
      const hits = await counterValue(metrics, 'cacheplane_cache_hits_total', { namespace });
      const misses = await counterValue(metrics, 'cacheplane_cache_misses_total', { namespace });
      const getRequests = await counterValue(metrics, 'cacheplane_requests_total', {
        namespace,
        operation: 'get',
      });
      const after = { get: await histogramCount('get'), set: await histogramCount('set') };
      return (
        hits === expected.hits &&
        misses === expected.misses &&
        getRequests === expected.gets &&
        after.get - before.get === expected.gets &&
        after.set - before.set === expected.sets
      );
    }),
    PROPERTY_RUNS,
  );
  t.pass();
});

test.serial('Property 14: Correlation ID Logging', async (t) => {
  const { plane } = t.context;
  await fc.assert(
    fc.asyncProperty(
      steps,
      fc.option(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/), { nil: undefined }),
      fc.constantFrom('x-correlation-id', 'x-request-id'),
      async (sequence, given, header) => {
        const namespace = freshNamespace('p14');
        for (const step of sequence) {
          const firstLine = plane.logs.length;
          const response = await run(plane, namespace, step, given === undefined ? {} : { [header]: given });
          const id = response.headers.get('x-correlation-id');
          if (id === null || (given !== undefined && id !== given)) return false;
          const lines = plane.logs.slice(firstLine);
          // At least the access line, and every line written for the request names its id.
          if (lines.length === 0 || !lines.every((line) => line['correlationId'] === id)) return false;
        }
        return true;
      },
    ),
    PROPERTY_RUNS,
  );
  t.pass();
});
