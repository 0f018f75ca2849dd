// What is measured, in quick and full mode: closed-loop runs (peak throughput), open-loop runs (latency
// at a fixed share of a measured peak), the baselines outside the data plane, and the ratios and
// latency targets the report judges.
import type { Distribution, KeySet } from './dataset.ts';
import { infoOf, type TargetId, type TargetRef } from './servers.ts';

export type Transport = 'grpc' | 'rest';

export interface Workload {
  transport: Transport;
  /** get: single-key reads; mix: 90 % GET / 10 % SET; batch: batch GETs of `batchSize` keys. */
  op: 'get' | 'mix' | 'batch';
  keySet: KeySet;
  valueSize: number;
  distribution: Distribution;
  batchSize?: number;
}

/** A closed-loop run: `concurrency` calls in flight, each sent as soon as the previous one returns. */
export interface ClosedSpec {
  id: string;
  /** Runs of a group are measured next to each other in every round. */
  group: string;
  target: TargetRef;
  /** ghz for gRPC, wrk for REST, bench/ioredis-load.ts for direct Redis. */
  tool: 'ghz' | 'wrk' | 'ioredis';
  workload: Workload;
  concurrency: number;
  /** ioredis runs only. */
  ioredis?: { cluster: boolean; autoPipelining: boolean };
  /** Seconds measured, when not the plan's (one-in-flight runs need less for a p50). */
  measureS?: number;
}

/** An open-loop run: requests sent at a fixed rate, a share of a closed-loop run's median peak. */
export interface OpenSpec {
  id: string;
  target: TargetRef;
  /** ghz --async --rps for gRPC, vegeta for REST. */
  tool: 'ghz' | 'vegeta';
  workload: Workload;
  fraction: number;
  /** The ClosedSpec whose median throughput sets the rate. */
  peakOf: string;
}

export interface RatioSpec {
  id: string;
  label: string;
  numerator: string;
  denominator: string;
  /** rps: calls per second; keys: keys per second (batches). */
  measure: 'rps' | 'keys';
  target: number;
  /** Part of the issue's target table, or extra context. */
  primary: boolean;
}

export interface LatencySpec {
  id: string;
  label: string;
  /** A ClosedSpec or OpenSpec id. */
  run: string;
  percentile: 'p50' | 'p999';
  targetMs: number;
  /** The same measure on the bare front end: the floor this machine and load tool set. */
  floorRun?: string;
}

export interface Plan {
  mode: 'quick' | 'full';
  rounds: number;
  /** Seconds measured per closed-loop run, after the in-run warm-up. */
  measureS: number;
  /** Runs re-measured at most (once each) because other processes were busy during them. */
  retries: number;
  /** Seconds of warm-up cut off the front of each ghz and ioredis run (wrk: a run before, if ≥ 1 s). */
  warmupS: number;
  openMeasureS: number;
  openRepeats: number;
  valueSizes: number[];
  closed: ClosedSpec[];
  open: OpenSpec[];
  ratios: RatioSpec[];
  latencies: LatencySpec[];
  redisBenchmark: RedisBenchmarkSpec[];
  /** Single-key GET baselines with ioredis (not part of the rounds). */
  ioredisGets: ClosedSpec[];
  /** Context runs measured once, after the rounds (no ratio depends on them). */
  singles: ClosedSpec[];
  localStoreMs: number;
}

export interface RedisBenchmarkSpec {
  id: string;
  clients: number;
  pipeline: number;
  requests: number;
  cluster: boolean;
}

const BASE: Workload = {
  transport: 'grpc',
  op: 'get',
  keySet: 'hit',
  valueSize: 64,
  distribution: 'uniform',
};

export function workloadId(w: Workload): string {
  const op = w.op === 'batch' ? `batch${w.batchSize}` : w.op;
  return `${w.transport}.${op}.${w.keySet}.${w.valueSize}B.${w.distribution}`;
}

function closed(
  group: string,
  target: TargetId,
  workload: Partial<Workload>,
  concurrency: number,
  extra: Partial<ClosedSpec> = {},
): ClosedSpec {
  const w = { ...BASE, ...workload };
  const tool = extra.tool ?? (w.transport === 'grpc' ? 'ghz' : 'wrk');
  const suffix =
    extra.ioredis === undefined
      ? ''
      : `.${extra.ioredis.cluster ? 'cluster' : 'standalone'}.ap-${extra.ioredis.autoPipelining ? 'on' : 'off'}`;
  const id =
    tool === 'ioredis'
      ? `ioredis.${w.op === 'batch' ? `mget${w.batchSize}` : 'get'}${suffix}.c${concurrency}`
      : `${workloadId(w)}.c${concurrency}@${target}`;
  return { id, group, target, tool, workload: w, concurrency, ...extra };
}

/** Open loop at `fraction` of `peak`'s median throughput, against `target` (default: the peak's server). */
function open(peak: ClosedSpec, fraction: number, target: TargetRef = peak.target): OpenSpec {
  return {
    id: `${peak.id}.open${Math.round(fraction * 100)}${target === peak.target ? '' : `@${target}`}`,
    target,
    tool: peak.workload.transport === 'grpc' ? 'ghz' : 'vegeta',
    workload: peak.workload,
    fraction,
    peakOf: peak.id,
  };
}

const ioredisDirect = (
  batchSize: number,
  concurrency: number,
  cluster: boolean,
  autoPipelining: boolean,
): ClosedSpec =>
  closed(
    'batch',
    cluster ? 'redis-cluster' : 'redis',
    { op: batchSize > 1 ? 'batch' : 'get', batchSize },
    concurrency,
    { tool: 'ioredis', ioredis: { cluster, autoPipelining } },
  );

/** The target table of the issue, plus context ratios; ids refer to the runs of the plan. */
function ratiosFor(c: number, batchC: number) {
  const id = (target: TargetId, workload: Partial<Workload>, concurrency = c): string =>
    closed('', target, workload, concurrency).id;
  const rest = { transport: 'rest' as const };
  const batch = { op: 'batch' as const, batchSize: 100 };
  const specs = {
    grpcRedis: id('dp-redis', {}),
    grpcEcho: id('bare-grpc', {}),
    grpcFrontend: id('frontend', {}),
    restRedis: id('dp-redis', rest),
    restFrontend: id('frontend', rest),
    restKoa: id('bare-koa', rest),
    grpcNear: id('dp-near', {}),
    restNear: id('dp-near', rest),
    grpcCluster: id('dp-cluster', {}),
    grpcNoMetrics: id('dp-nometrics', {}),
    batchDp: id('dp-redis', batch, batchC),
    batchIoredis: ioredisDirect(100, batchC, false, true).id,
    grpcRedisC1: id('dp-redis', {}, 1),
  };
  const ratios: RatioSpec[] = [
    {
      id: 'grpc-redis-vs-echo',
      label: 'gRPC GET through Redis ÷ bare grpc-js echo',
      numerator: specs.grpcRedis,
      denominator: specs.grpcEcho,
      measure: 'rps',
      target: 0.7,
      primary: true,
    },
    {
      id: 'rest-redis-vs-koa',
      label: 'REST GET through Redis ÷ Koa handler (same router and middleware, constant answer)',
      numerator: specs.restRedis,
      denominator: specs.restFrontend,
      measure: 'rps',
      target: 0.65,
      primary: true,
    },
    {
      id: 'local-hit-vs-front-grpc',
      label: 'gRPC local-cache hit ÷ bare grpc-js echo',
      numerator: specs.grpcNear,
      denominator: specs.grpcEcho,
      measure: 'rps',
      target: 0.9,
      primary: true,
    },
    {
      id: 'local-hit-vs-front-rest',
      label: 'REST local-cache hit ÷ Koa handler (same router and middleware, constant answer)',
      numerator: specs.restNear,
      denominator: specs.restFrontend,
      measure: 'rps',
      target: 0.9,
      primary: true,
    },
    {
      id: 'batch100-vs-ioredis',
      label: 'gRPC batch GET of 100 keys, keys/s ÷ direct ioredis MGET of 100',
      numerator: specs.batchDp,
      denominator: specs.batchIoredis,
      measure: 'keys',
      target: 0.4,
      primary: true,
    },
    {
      id: 'cluster-vs-standalone',
      label: 'Redis Cluster ÷ standalone, data-plane gRPC GET throughput',
      numerator: specs.grpcCluster,
      denominator: specs.grpcRedis,
      measure: 'rps',
      target: 0.85,
      primary: true,
    },
    {
      id: 'metrics-on-vs-off',
      label: 'metrics on ÷ metrics off, data-plane gRPC GET through Redis',
      numerator: specs.grpcRedis,
      denominator: specs.grpcNoMetrics,
      measure: 'rps',
      target: 0.97,
      primary: true,
    },
    {
      id: 'grpc-frontend-vs-echo',
      label:
        "context: the data plane's gRPC front end over a constant cache ÷ bare grpc-js echo (the ceiling of every gRPC path)",
      numerator: specs.grpcFrontend,
      denominator: specs.grpcEcho,
      measure: 'rps',
      target: 0.9,
      primary: false,
    },
    {
      id: 'grpc-local-hit-vs-frontend',
      label: 'context: gRPC local-cache hit ÷ the same gRPC front end over a constant cache',
      numerator: specs.grpcNear,
      denominator: specs.grpcFrontend,
      measure: 'rps',
      target: 0.9,
      primary: false,
    },
    {
      id: 'grpc-redis-vs-frontend',
      label: 'context: gRPC GET through Redis ÷ the same gRPC front end over a constant cache',
      numerator: specs.grpcRedis,
      denominator: specs.grpcFrontend,
      measure: 'rps',
      target: 0.7,
      primary: false,
    },
    {
      id: 'rest-redis-vs-bare-koa',
      label: 'context: REST GET through Redis ÷ minimal Koa (no middleware)',
      numerator: specs.restRedis,
      denominator: specs.restKoa,
      measure: 'rps',
      target: 0.65,
      primary: false,
    },
  ];
  const latencies: LatencySpec[] = [
    {
      id: 'p999-at-half-peak',
      label: 'p99.9 at 50 % of peak, gRPC GET via Redis (open loop)',
      run: `${specs.grpcRedis}.open50`,
      percentile: 'p999',
      targetMs: 2,
      floorRun: `${specs.grpcRedis}.open50@bare-grpc`,
    },
    {
      id: 'p50-one-in-flight',
      label: 'p50 with one request in flight, gRPC GET via Redis',
      run: specs.grpcRedisC1,
      percentile: 'p50',
      targetMs: 0.25,
      floorRun: id('bare-grpc', {}, 1),
    },
  ];
  return { ratios, latencies, specs };
}

const REDIS_BENCHMARK: RedisBenchmarkSpec[] = [
  { id: 'redis-benchmark.c1', clients: 1, pipeline: 1, requests: 15_000, cluster: false },
  { id: 'redis-benchmark.c50', clients: 50, pipeline: 1, requests: 80_000, cluster: false },
  { id: 'redis-benchmark.c1.P16', clients: 1, pipeline: 16, requests: 150_000, cluster: false },
  { id: 'redis-benchmark.c50.P16', clients: 50, pipeline: 16, requests: 400_000, cluster: false },
];

export function quickPlan(): Plan {
  const c = 64;
  const batchC = 16;
  const rest = { transport: 'rest' as const };
  const closedSpecs: ClosedSpec[] = [
    closed('grpc-get', 'bare-grpc', {}, c),
    closed('grpc-get', 'frontend', {}, c),
    closed('grpc-get', 'dp-redis', {}, c),
    closed('grpc-get', 'dp-nometrics', {}, c),
    closed('grpc-get', 'dp-cluster', {}, c),
    closed('grpc-get', 'dp-near', {}, c),
    closed('rest-get', 'frontend', rest, c),
    closed('rest-get', 'dp-redis', rest, c),
    closed('rest-get', 'dp-near', rest, c),
    closed('rest-get', 'bare-koa', rest, c),
    closed('batch', 'dp-redis', { op: 'batch', batchSize: 100 }, batchC),
    ioredisDirect(100, batchC, false, true),
    closed('one-in-flight', 'bare-grpc', {}, 1, { measureS: 1 }),
    closed('one-in-flight', 'dp-redis', {}, 1, { measureS: 1 }),
  ];
  const byId = new Map(closedSpecs.map((spec) => [spec.id, spec]));
  const peak = (id: string): ClosedSpec => byId.get(id) as ClosedSpec;
  const { ratios, latencies, specs } = ratiosFor(c, batchC);
  return {
    mode: 'quick',
    rounds: 3,
    retries: 6,
    measureS: 1.5,
    warmupS: 0.3,
    openMeasureS: 3,
    openRepeats: 1,
    valueSizes: [64],
    closed: closedSpecs,
    open: [
      open(peak(specs.grpcRedis), 0.5),
      // The same rate on the bare echo: the latency floor of this machine and of ghz.
      open(peak(specs.grpcRedis), 0.5, 'bare-grpc'),
      open(peak(specs.grpcRedis), 0.75),
      open(peak(specs.restRedis), 0.5),
      open(peak(specs.restRedis), 0.75),
    ],
    ratios,
    latencies,
    redisBenchmark: REDIS_BENCHMARK,
    singles: [closed('rest-get', 'bare-http', rest, c)],
    ioredisGets: [
      ioredisDirect(1, c, false, true),
      ioredisDirect(1, c, false, false),
      ioredisDirect(1, c, true, true),
      ioredisDirect(1, c, true, false),
    ],
    localStoreMs: 250,
  };
}

/**
 * The full matrix, one factor at a time around the base point (GET, 64 B, uniform keys, 64 in
 * flight): concurrency, value size, key skew, path (local hit, Redis hit, miss), GET/SET mix and
 * batch size, each over gRPC and REST, plus the configurations the ratios compare.
 */
export function fullPlan(): Plan {
  const c = 64;
  const batchC = 16;
  const specs: ClosedSpec[] = [];
  const seen = new Set<string>();
  const add = (spec: ClosedSpec): void => {
    if (seen.has(spec.id)) return;
    seen.add(spec.id);
    specs.push(spec);
  };
  for (const transport of ['grpc', 'rest'] as const) {
    const t = { transport };
    const bare: TargetId[] =
      transport === 'grpc' ? ['bare-grpc', 'frontend'] : ['frontend', 'bare-koa', 'bare-http'];
    for (const concurrency of [1, 16, 64, 256]) {
      const group = `${transport}-c${concurrency}`;
      for (const target of [...bare, 'dp-redis', 'dp-near'] as TargetId[])
        add(closed(group, target, t, concurrency));
    }
    for (const target of ['dp-nometrics', 'dp-cluster', 'dp-embedded'] as TargetId[])
      add(closed(`${transport}-c${c}`, target, t, c));
    add(closed(`${transport}-c256`, 'dp-cluster', t, 256));
    for (const valueSize of [1024, 16_384]) {
      for (const target of ['dp-redis', 'dp-near'] as TargetId[])
        add(closed(`${transport}-size${valueSize}`, target, { ...t, valueSize }, c));
    }
    for (const target of ['dp-redis', 'dp-near'] as TargetId[]) {
      add(closed(`${transport}-zipf`, target, { ...t, distribution: 'zipf' }, c));
      add(closed(`${transport}-miss`, target, { ...t, keySet: 'miss' }, c));
      add(closed(`${transport}-mix`, target, { ...t, op: 'mix' }, c));
      add(closed(`${transport}-mix`, target, { ...t, op: 'mix', distribution: 'zipf' }, c));
    }
    for (const batchSize of [10, 100]) {
      for (const target of ['dp-redis', 'dp-near', 'dp-cluster'] as TargetId[])
        add(closed(`batch${batchSize}`, target, { ...t, op: 'batch', batchSize }, batchC));
    }
  }
  for (const batchSize of [10, 100]) {
    for (const cluster of [false, true]) add(ioredisDirect(batchSize, batchC, cluster, true));
    add(ioredisDirect(batchSize, batchC, false, false));
  }
  const byId = new Map(specs.map((spec) => [spec.id, spec]));
  const openSpecs: OpenSpec[] = [];
  for (const spec of specs) {
    const interesting =
      spec.concurrency === c &&
      spec.workload.op === 'get' &&
      spec.workload.keySet === 'hit' &&
      spec.workload.valueSize === 64 &&
      spec.workload.distribution === 'uniform' &&
      ['dp-redis', 'dp-near', 'dp-cluster', 'bare-grpc', 'frontend'].includes(spec.target);
    if (interesting) for (const fraction of [0.5, 0.75]) openSpecs.push(open(spec, fraction));
  }
  const { ratios, latencies } = ratiosFor(c, batchC);
  for (const ratio of ratios) {
    for (const id of [ratio.numerator, ratio.denominator]) {
      if (!byId.has(id)) throw new Error(`full plan lacks ${id} for ratio ${ratio.id}`);
    }
  }
  return {
    mode: 'full',
    rounds: 3,
    retries: 1000,
    measureS: 3,
    warmupS: 1,
    openMeasureS: 8,
    openRepeats: 2,
    valueSizes: [64, 1024, 16_384],
    closed: specs,
    open: openSpecs,
    ratios,
    latencies,
    redisBenchmark: [
      ...REDIS_BENCHMARK.map((spec) => ({ ...spec, requests: spec.requests * 2 })),
      { id: 'redis-benchmark.cluster.c50', clients: 50, pipeline: 1, requests: 200_000, cluster: true },
    ],
    singles: [],
    ioredisGets: [
      ioredisDirect(1, c, false, true),
      ioredisDirect(1, c, false, false),
      ioredisDirect(1, c, true, true),
      ioredisDirect(1, c, true, false),
    ],
    localStoreMs: 1000,
  };
}

/** Every server a plan needs. */
export function targetsOf(plan: Plan): TargetRef[] {
  const ids = new Set<TargetRef>();
  for (const spec of [...plan.closed, ...plan.open, ...plan.ioredisGets, ...plan.singles])
    ids.add(spec.target);
  ids.add('redis');
  if (plan.redisBenchmark.some((spec) => spec.cluster)) ids.add('redis-cluster');
  // The keys are written through a data plane: one for each Redis that is used.
  if (![...ids].some((id) => infoOf(id).kind === 'dataplane' && infoOf(id).redis === 'standalone'))
    ids.add('dp-redis');
  if (ids.has('redis-cluster')) ids.add('dp-cluster');
  return [...ids].sort();
}

/**
 * For `--before`: every closed-loop run against a data plane gets a twin against the same
 * configuration started from the other source tree, measured right after it in every round, and a
 * context ratio "after ÷ before".
 */
export function withBefore(plan: Plan): Plan {
  const closedSpecs: ClosedSpec[] = [];
  const ratios: RatioSpec[] = [...plan.ratios];
  for (const spec of plan.closed) {
    closedSpecs.push(spec);
    if (infoOf(spec.target).kind !== 'dataplane') continue;
    const twin: ClosedSpec = {
      ...spec,
      id: `${spec.id}~before`,
      target: `${spec.target as TargetId}~before`,
    };
    closedSpecs.push(twin);
    ratios.push({
      id: `change:${spec.id}`,
      label: `change: ${spec.id}, after ÷ before`,
      numerator: spec.id,
      denominator: twin.id,
      measure: spec.workload.op === 'batch' ? 'keys' : 'rps',
      target: 1,
      primary: false,
    });
  }
  return { ...plan, closed: closedSpecs, ratios };
}
