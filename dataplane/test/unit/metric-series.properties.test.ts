// The hot-path metric types (BufferedCounter, LabelledHistogram) must expose exactly what
// prom-client's Counter and Histogram would for the same observations: same exposition text.
import test from 'ava';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { BufferedCounter } from '../../src/observability/buffered-counter.ts';
import { LabelledHistogram } from '../../src/observability/labelled-histogram.ts';
import { PrometheusMetrics } from '../../src/observability/metrics.ts';
import { PROPERTY_RUNS } from '../support/cache-fixture.ts';

const LABELS = ['transport', 'operation'] as const;
const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

const observation = fc.record({
  transport: fc.constantFrom('rest', 'grpc'),
  operation: fc.constantFrom('get', 'set', 'batch_get'),
  value: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.constantFrom(...BUCKETS)),
});

test('BufferedCounter and LabelledHistogram render exactly as prom-client Counter and Histogram', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(observation, { maxLength: 60 }),
      fc.boolean(),
      async (observations, scrapeMidway) => {
        const ours = new Registry();
        const theirs = new Registry();
        const counter = new BufferedCounter({
          name: 'c_total',
          help: 'c',
          labelNames: LABELS,
          registers: [ours],
        });
        const histogram = new LabelledHistogram({
          name: 'h_seconds',
          help: 'h',
          labelNames: LABELS,
          buckets: BUCKETS,
          registers: [ours],
        });
        const referenceCounter = new Counter({
          name: 'c_total',
          help: 'c',
          labelNames: LABELS,
          registers: [theirs],
        });
        const referenceHistogram = new Histogram({
          name: 'h_seconds',
          help: 'h',
          labelNames: LABELS,
          buckets: BUCKETS,
          registers: [theirs],
        });
        for (const [index, { transport, operation, value }] of observations.entries()) {
          counter.labels(transport, operation).inc();
          histogram.labels(transport, operation).observe(value);
          referenceCounter.inc({ transport, operation });
          referenceHistogram.observe({ transport, operation }, value);
          // A scrape hands buffered counts over; counting must go on correctly after it.
          if (scrapeMidway && index === Math.floor(observations.length / 2)) await ours.metrics();
        }
        const [rendered, reference] = await Promise.all([ours.metrics(), theirs.metrics()]);
        return sortedLines(rendered) === sortedLines(reference);
      },
    ),
    PROPERTY_RUNS,
  );
  t.pass();
});

/** Series order may differ (first use vs prom-client's hash order); the lines must not. */
function sortedLines(text: string): string {
  return text.split('\n').sort().join('\n');
}

test('a breaker transition is counted by its own state; the gauge shows the state it is given', async (t) => {
  const metrics = new PrometheusMetrics();
  metrics.breakerState('closed', 'open'); // one namespace recovered while another's is still open
  const text = (await metrics.render())?.body ?? '';
  t.regex(text, /^cacheplane_redis_breaker_state 1$/m);
  t.regex(text, /^cacheplane_redis_breaker_transitions_total\{state="closed"\} 1$/m);
  t.notRegex(text, /^cacheplane_redis_breaker_transitions_total\{state="open"\}/m);
});
