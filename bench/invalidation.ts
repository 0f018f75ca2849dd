// Invalidation cost and speed, per broker, on loopback: two replicas (A, B) on one Redis and one
// broker, plus a replica C on the same Redis without a broker.
// - writes/s: wrk PUTs on A (publishing) against C (not publishing), interleaved A,C,A,C;
// - publish-to-apply delay: A takes writes at a steady rate; B's
//   cacheplane_invalidation_delay_seconds histogram gives p50/p99 (interpolated within buckets).
// Run: node bench/invalidation.ts [rabbitmq|kafka]   (needs scripts/provision.sh done)
import { readFileSync } from 'node:fs';
import { startKafka } from '../dataplane/test/support/kafka-harness.ts';
import { startRabbitMq } from '../dataplane/test/support/rabbitmq-harness.ts';
import { startRedisStandalone } from '../dataplane/test/support/redis-harness.ts';
import { startReplica, type ReplicaProcess } from '../dataplane/test/support/replica-process.ts';
import { NAMESPACE, TTL_SECONDS, VALUE } from './constants.ts';
import { runWrk } from './load.ts';

const STEADY_RATE = 200;
const STEADY_SECONDS = 8;
const WRK = { warmupS: 2, durationS: 6, connections: 32 };

type Histogram = Array<{ le: number; count: number }>;

async function delayHistogram(replica: ReplicaProcess): Promise<Histogram> {
  const text = await (await fetch(`${replica.baseUrl}/metrics`)).text();
  return [...text.matchAll(/^cacheplane_invalidation_delay_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map(
    ([, le, count]) => ({ le: le === '+Inf' ? Infinity : Number(le), count: Number(count) }),
  );
}

/** The q-quantile (0..1) of the observations between two cumulative histograms, in ms. */
function quantileMs(before: Histogram, after: Histogram, q: number): number {
  const delta = after.map((bucket, i) => ({ le: bucket.le, count: bucket.count - (before[i]?.count ?? 0) }));
  const total = delta.at(-1)?.count ?? 0;
  const rank = q * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of delta) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return previous.le * 1000;
      const share =
        bucket.count === previous.count ? 0 : (rank - previous.count) / (bucket.count - previous.count);
      return (previous.le + share * (bucket.le - previous.le)) * 1000;
    }
    previous = bucket;
  }
  return Number.NaN;
}

/** Waits until B has worked off the events of the throughput runs (its received count stands still). */
async function settled(replica: ReplicaProcess): Promise<void> {
  const received = async () => {
    const text = await (await fetch(`${replica.baseUrl}/metrics`)).text();
    return Number(/^cacheplane_invalidation_events_total\{outcome="received"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  for (let last = -1, now = await received(); now !== last;) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    [last, now] = [now, await received()];
  }
}

async function steadyWrites(replica: ReplicaProcess): Promise<number> {
  const token = replica.token([NAMESPACE]);
  const interval = 1000 / STEADY_RATE;
  const started = performance.now();
  let sent = 0;
  const inFlight: Array<Promise<unknown>> = [];
  while (performance.now() - started < STEADY_SECONDS * 1000) {
    const due = started + sent * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      fetch(`${replica.baseUrl}/api/v1/cache/${NAMESPACE}/steady-${sent % 100}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ value: VALUE, ttlSeconds: TTL_SECONDS }),
      }).then((response) => response.arrayBuffer()),
    );
    sent += 1;
  }
  await Promise.all(inFlight);
  return sent;
}

/** CPU time (user + system) a process has used so far, in µs. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / 100) * 1e6; // USER_HZ is 100 on Linux
}

async function writesPerSecond(replica: ReplicaProcess, cpuPerWrite: number[]): Promise<number> {
  const cpuBefore = cpuMicros(replica.pid);
  const result = await runWrk({
    ...WRK,
    url: `${replica.baseUrl}/api/v1/cache/${NAMESPACE}/wrk-key`,
    method: 'PUT',
    body: JSON.stringify({ value: VALUE, ttlSeconds: TTL_SECONDS }),
    token: replica.token([NAMESPACE]),
  });
  if (result.errors > 0) throw new Error(`wrk saw ${result.errors} errors: ${result.firstError ?? ''}`);
  // wrk's warm-up ran too: divide by all the writes it made, warm-up included (≈ rps × total time).
  const writes = result.rps * (WRK.warmupS + WRK.durationS);
  cpuPerWrite.push((cpuMicros(replica.pid) - cpuBefore) / writes);
  return result.rps;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const redis = await startRedisStandalone();
  const brokers = [
    {
      type: 'rabbitmq' as const,
      start: async () => {
        const r = await startRabbitMq();
        return { urls: [r.url], stop: () => r.stop() };
      },
    },
    {
      type: 'kafka' as const,
      start: async () => {
        const k = await startKafka();
        return { urls: k.brokers, stop: () => k.stop() };
      },
    },
  ];
  const only = process.argv[2];
  const selected = brokers.filter((broker) => only === undefined || broker.type === only);
  const c = await startReplica('bench-c', { REDIS_ADDRESSES: redis.address, LOG_LEVEL: 'info' });
  try {
    for (const broker of selected) {
      const server = await broker.start();
      const env = {
        REDIS_ADDRESSES: redis.address,
        BROKER_TYPE: broker.type,
        BROKER_URL: server.urls.join(','),
      };
      const a = await startReplica(`bench-a-${broker.type}`, env);
      const b = await startReplica(`bench-b-${broker.type}`, env);
      try {
        const withBroker: number[] = [];
        const without: number[] = [];
        const cpuWith: number[] = [];
        const cpuWithout: number[] = [];
        for (let repeat = 0; repeat < 2; repeat += 1) {
          withBroker.push(await writesPerSecond(a, cpuWith));
          without.push(await writesPerSecond(c, cpuWithout));
        }
        await settled(b);
        const before = await delayHistogram(b);
        const sent = await steadyWrites(a);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const after = await delayHistogram(b);
        const applied = (after.at(-1)?.count ?? 0) - (before.at(-1)?.count ?? 0);
        console.log(
          `${broker.type}: writes/s with broker ${median(withBroker).toFixed(0)} (runs ${withBroker.map((v) => v.toFixed(0)).join(', ')}), ` +
            `without ${median(without).toFixed(0)} (runs ${without.map((v) => v.toFixed(0)).join(', ')}), ratio ${(median(withBroker) / median(without)).toFixed(2)}; ` +
            `data-plane CPU per write ${median(cpuWith).toFixed(0)} µs with broker, ${median(cpuWithout).toFixed(0)} µs without; ` +
            `publish-to-apply at ${STEADY_RATE} writes/s: p50 ${quantileMs(before, after, 0.5).toFixed(2)} ms, p99 ${quantileMs(before, after, 0.99).toFixed(2)} ms ` +
            `(${sent} writes; B applied ${applied} events, merged ones counting once)`,
        );
      } finally {
        await a.stop();
        await b.stop();
        await server.stop();
      }
    }
  } finally {
    await c.stop();
    await redis.stop();
  }
}

await main();
