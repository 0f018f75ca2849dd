// The suite's outputs: result.json (everything measured, every repeat), report.md (verdicts, tables,
// flags) and the two SVG charts.
import type { LocalStoreReport } from '../local-store-bench.ts';
import type { Measurement } from './measure.ts';
import type { ProfileSummary } from './profile.ts';
import type {
  ClosedSpec,
  LatencySpec,
  OpenSpec,
  RatioSpec,
  RedisBenchmarkSpec,
  Workload,
} from './scenarios.ts';
import { infoOf } from './servers.ts';
import { spread, type Spread } from './stats.ts';
import { barChart, latencyChart, type BarRow, type LatencyRow } from './svg.ts';
import type { RedisBenchmarkRow } from './tools.ts';

export interface RunSummary {
  rps: Spread;
  keysPerSecond: Spread;
  p50: Spread;
  p99: Spread;
  p999: Spread;
  serverUsPerOp: Spread;
  redisUsPerOp: Spread;
  generatorCpuPercent: Spread;
  otherCpuPercent: Spread;
  errors: number;
  flags: string[];
}

export interface RatioResult {
  spec: RatioSpec;
  /** Numerator ÷ denominator of the runs measured next to each other, round by round. */
  perRound: number[];
  value: Spread;
  /** Server CPU per call, denominator ÷ numerator: the ratio as the server's CPU cost sees it. */
  cpuRatio: number | undefined;
  verdict: Verdict;
}

export interface LatencyResult {
  spec: LatencySpec;
  valuesMs: number[];
  value: Spread;
  verdict: Verdict;
  /** The same percentile on the bare front end (floorRun), when measured. */
  floor?: Spread;
}

/** met / missed on the median; "borderline" when the repeats fall on both sides of the target. */
export type Verdict = 'met' | 'missed' | 'met (borderline)' | 'missed (borderline)' | 'not measured';

export interface SuiteResult {
  version: 1;
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  durationS: number;
  command: string;
  machine: Record<string, string | number>;
  tools: Record<string, string>;
  plan: { rounds: number; measureS: number; warmupS: number; openMeasureS: number; openRepeats: number };
  idleOtherCpuPercent: number;
  closed: Array<{ spec: ClosedSpec; runs: Measurement[]; summary: RunSummary }>;
  open: Array<{ spec: OpenSpec; rate: number; runs: Measurement[]; summary: RunSummary }>;
  ratios: RatioResult[];
  latencies: LatencyResult[];
  redisBenchmark: Array<{ spec: RedisBenchmarkSpec; rows: RedisBenchmarkRow[]; clientCpuPercent: number }>;
  ioredis: Array<{ spec: ClosedSpec; run: Measurement }>;
  localStore: LocalStoreReport[];
  checks: { before: Record<string, string[]>; after: Record<string, string[]> };
  profiles: Record<string, ProfileSummary>;
  notes: string[];
}

export function summarize(runs: Measurement[]): RunSummary {
  const of = (pick: (run: Measurement) => number | undefined): Spread =>
    spread(runs.map(pick).filter((value): value is number => value !== undefined));
  return {
    rps: of((run) => run.rps),
    keysPerSecond: of((run) => run.keysPerSecond),
    p50: of((run) => run.latencyMs.p50),
    p99: of((run) => run.latencyMs.p99),
    p999: of((run) => run.latencyMs.p999),
    serverUsPerOp: of((run) => run.serverUsPerOp),
    redisUsPerOp: of((run) => run.redisUsPerOp),
    generatorCpuPercent: of((run) => run.generatorCpuPercent),
    otherCpuPercent: of((run) => run.otherCpuPercent),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    flags: summarizeFlags(runs),
  };
}

/**
 * The runs' flags, alike ones merged: "other processes used 49% of the machine" in two of three runs
 * becomes "other processes used up to 49% of the machine (2 of 3 runs)".
 */
function summarizeFlags(runs: Measurement[]): string[] {
  const groups = new Map<string, { count: number; max: number }>();
  for (const run of runs) {
    for (const flag of new Set(run.flags)) {
      const key = flag.replace(/\d+(\.\d+)?/g, '#');
      const value = Number(/\d+(\.\d+)?/.exec(flag)?.[0] ?? Number.NaN);
      const group = groups.get(key) ?? { count: 0, max: Number.NEGATIVE_INFINITY };
      group.count += 1;
      if (Number.isFinite(value)) group.max = Math.max(group.max, value);
      groups.set(key, group);
    }
  }
  return [...groups].map(([key, { count, max }]) => {
    const text = Number.isFinite(max) ? key.replace('#', `up to ${max}`).replace(/#/g, '…') : key;
    return runs.length === 1 ? text : `${text} (${count} of ${runs.length} runs)`;
  });
}

export function verdict(values: readonly number[], target: number, atLeast: boolean): Verdict {
  const s = spread(values);
  if (s.n === 0) return 'not measured';
  const ok = (value: number): boolean => (atLeast ? value >= target : value <= target);
  const met = ok(s.median);
  const unanimous = ok(s.min) === ok(s.max);
  return met ? (unanimous ? 'met' : 'met (borderline)') : unanimous ? 'missed' : 'missed (borderline)';
}

export function ratioResult(
  spec: RatioSpec,
  numerator: Measurement[],
  denominator: Measurement[],
): RatioResult {
  const pick = (run: Measurement): number => (spec.measure === 'keys' ? run.keysPerSecond : run.rps);
  const rounds = Math.min(numerator.length, denominator.length);
  const perRound = Array.from(
    { length: rounds },
    (_, round) => pick(numerator[round] as Measurement) / pick(denominator[round] as Measurement),
  );
  const cpuOf = (runs: Measurement[]): number =>
    spread(
      runs.map(
        (run) =>
          (run.serverUsPerOp ?? Number.NaN) / (spec.measure === 'keys' ? run.keysPerSecond / run.rps : 1),
      ),
    ).median;
  const cpu = cpuOf(denominator) / cpuOf(numerator);
  return {
    spec,
    perRound,
    value: spread(perRound),
    cpuRatio: Number.isFinite(cpu) ? cpu : undefined,
    verdict: verdict(perRound, spec.target, true),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown

const fmt = {
  int: (value: number): string => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–'),
  ms: (value: number): string =>
    Number.isFinite(value) ? (value < 1 ? value.toFixed(3) : value.toFixed(2)) : '–',
  us: (value: number): string => (Number.isFinite(value) ? value.toFixed(1) : '–'),
  pct: (value: number): string => (Number.isFinite(value) ? `${value.toFixed(0)}%` : '–'),
  ratio: (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '–'),
};

function range(s: Spread, format: (value: number) => string): string {
  if (s.n === 0) return '–';
  return s.n === 1 ? format(s.median) : `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

export function describeWorkload(w: Workload, concurrency?: number): string {
  const op = w.op === 'batch' ? `batch GET ×${w.batchSize}` : w.op === 'mix' ? '90/10 GET/SET' : 'GET';
  const keys = `${w.keySet === 'miss' ? 'miss' : 'hit'}, ${w.valueSize} B, ${w.distribution}`;
  return `${w.transport === 'grpc' ? 'gRPC' : 'REST'} ${op} (${keys})${concurrency === undefined ? '' : `, ${concurrency} in flight`}`;
}

function table(header: string[], rows: string[][], alignRight = 1): string {
  const line = (cells: string[]): string =>
    `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  const rule = header.map((_, index) => (index < alignRight ? '---' : '---:'));
  return [line(header), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function renderMarkdown(result: SuiteResult): string {
  const out: string[] = [];
  out.push(`# cacheplane benchmark — ${result.mode} mode`);
  out.push('');
  out.push(
    `${result.startedAt} · ${result.durationS.toFixed(0)} s · \`${result.command}\` · ` +
      `${result.machine.cpus} CPUs (${result.machine.cpuModel}), ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, ` +
      `Redis ${result.tools.redis}, ghz ${result.tools.ghz}, vegeta ${result.tools.vegeta}, ${result.tools.wrk}`,
  );
  out.push('');
  out.push(
    `Method (details in docs/benchmarks.md): every server runs as its own process on loopback, all started once and idle while others are measured. ` +
      `Closed-loop runs: ${result.plan.rounds} interleaved rounds (forward, then reverse order) of ${result.plan.measureS} s each after warm-up; ` +
      `figures are medians with the min–max of the rounds. Ratios are taken round by round between runs measured next to each other. ` +
      `Open-loop runs: a fixed arrival rate (ghz --async --rps, vegeta) at a share of the measured median peak, ${result.plan.openMeasureS} s measured, ` +
      `${result.plan.openRepeats} repeat(s), latency from the scheduled send so that a slow answer cannot hide the ones queued behind it.`,
  );
  out.push('');
  out.push(
    `Noise: other processes used ${result.idleOtherCpuPercent.toFixed(0)}% of the machine just before the start. ` +
      `Each run reports the other processes' CPU, the load generator's CPU (flagged at ≥90% of a core) and the server's CPU per call.`,
  );
  out.push('');

  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['ratio', 'measured: median (min–max of rounds)', 'CPU-per-call ratio', 'target', 'verdict'],
      result.ratios
        .filter((ratio) => ratio.spec.primary)
        .map((ratio) => [
          ratio.spec.label,
          range(ratio.value, fmt.ratio),
          ratio.cpuRatio === undefined ? '–' : fmt.ratio(ratio.cpuRatio),
          `≥ ${ratio.spec.target.toFixed(2)}`,
          `**${ratio.verdict}**`,
        ]),
    ),
  );
  out.push('');
  out.push(
    table(
      ['latency', 'measured: median (min–max)', 'same on the bare front end', 'target', 'verdict'],
      result.latencies.map((latency) => [
        latency.spec.label,
        `${range(latency.value, (value) => `${(value * 1000).toFixed(0)} µs`)}`,
        latency.floor === undefined
          ? '–'
          : range(latency.floor, (value) => `${(value * 1000).toFixed(0)} µs`),
        `≤ ${latency.spec.targetMs >= 1 ? `${latency.spec.targetMs} ms` : `${latency.spec.targetMs * 1000} µs`}`,
        `**${latency.verdict}**`,
      ]),
    ),
  );
  out.push('');
  const context = result.ratios.filter((ratio) => !ratio.spec.primary);
  if (context.length > 0) {
    out.push(
      context
        .map(
          (ratio) =>
            `- ${ratio.spec.label}: ${range(ratio.value, fmt.ratio)} (CPU-per-call ratio ${ratio.cpuRatio === undefined ? '–' : fmt.ratio(ratio.cpuRatio)})`,
        )
        .join('\n'),
    );
    out.push('');
  }
  out.push(
    "The CPU-per-call ratio is the denominator's server CPU per call ÷ the numerator's: what the ratio would be if the server were the only thing using the CPU. " +
      'On this 2-core machine the load generator shares the CPU with the server, so throughput ratios understate differences in server cost when the generator is the busier party.',
  );
  out.push('');
  out.push('![throughput](throughput.svg)');
  out.push('');
  out.push('![latency](latency.svg)');
  out.push('');

  out.push('## Closed loop: peak throughput');
  out.push('');
  out.push(
    table(
      [
        'workload',
        'server',
        'calls/s',
        'keys/s',
        'p50 ms',
        'p99 ms',
        'server µs/call',
        'Redis µs/call',
        'generator CPU',
        'other CPU',
        'path',
        'flags',
      ],
      result.closed.map(({ spec, runs, summary }) => [
        spec.tool === 'ioredis'
          ? `Redis ${spec.workload.op === 'batch' ? `MGET of ${spec.workload.batchSize} keys` : 'GET'} (64 B), ${spec.concurrency} in flight`
          : describeWorkload(spec.workload, spec.concurrency),
        spec.tool === 'ioredis'
          ? `ioredis direct (${spec.ioredis?.cluster ? 'cluster' : 'standalone'}, auto-pipelining ${spec.ioredis?.autoPipelining ? 'on' : 'off'})`
          : spec.target,
        range(summary.rps, fmt.int),
        spec.workload.op === 'batch' ? range(summary.keysPerSecond, fmt.int) : '',
        range(summary.p50, fmt.ms),
        range(summary.p99, fmt.ms),
        range(summary.serverUsPerOp, fmt.us),
        range(summary.redisUsPerOp, fmt.us),
        fmt.pct(summary.generatorCpuPercent.median),
        fmt.pct(summary.otherCpuPercent.median),
        pathText(runs),
        summary.flags.length === 0 ? '' : `⚠ ${summary.flags.length}`,
      ]),
      2,
    ),
  );
  out.push('');
  out.push(
    'p50/p99 of closed-loop runs are as the generator saw them (wrk and ghz wait for an answer before the next call: coordinated omission); use the open-loop table for latency.',
  );
  out.push('');

  out.push('## Open loop: latency at a fixed arrival rate');
  out.push('');
  out.push(
    table(
      [
        'workload',
        'server',
        'rate (share of peak)',
        'achieved',
        'p50 ms',
        'p99 ms',
        'p99.9 ms',
        'max ms',
        'errors',
        'generator CPU',
        'other CPU',
        'flags',
      ],
      result.open.map(({ spec, rate, runs, summary }) => [
        describeWorkload(spec.workload),
        spec.target,
        `${fmt.int(rate)}/s (${shareText(spec)})`,
        range(summary.rps, fmt.int),
        range(summary.p50, fmt.ms),
        range(summary.p99, fmt.ms),
        range(summary.p999, fmt.ms),
        fmt.ms(Math.max(...runs.map((run) => run.latencyMs.max))),
        String(summary.errors),
        fmt.pct(summary.generatorCpuPercent.median),
        fmt.pct(summary.otherCpuPercent.median),
        summary.flags.length === 0 ? '' : `⚠ ${summary.flags.length}`,
      ]),
      2,
    ),
  );
  out.push('');

  out.push('## Baselines outside the data plane');
  out.push('');
  out.push('redis-benchmark (64 B values, random keys among 10,000):');
  out.push('');
  out.push(
    table(
      ['clients', 'pipeline', 'Redis', 'GET/s', 'SET/s', 'GET p50 ms', 'GET p99 ms', 'client CPU'],
      result.redisBenchmark.map(({ spec, rows, clientCpuPercent }) => {
        const get = rows.find((row) => row.test === 'GET');
        const set = rows.find((row) => row.test === 'SET');
        return [
          String(spec.clients),
          String(spec.pipeline),
          spec.cluster ? 'cluster' : 'standalone',
          fmt.int(get?.rps ?? Number.NaN),
          fmt.int(set?.rps ?? Number.NaN),
          fmt.ms(get?.p50Ms ?? Number.NaN),
          fmt.ms(get?.p99Ms ?? Number.NaN),
          fmt.pct(clientCpuPercent),
        ];
      }),
    ),
  );
  out.push('');
  out.push("Direct ioredis client (the data plane's client settings), single-key GET:");
  out.push('');
  out.push(
    table(
      ['Redis', 'auto-pipelining', 'in flight', 'GET/s', 'p50 ms', 'p99 ms', 'Redis µs/call', 'client'],
      result.ioredis.map(({ spec, run }) => [
        spec.ioredis?.cluster ? 'cluster' : 'standalone',
        spec.ioredis?.autoPipelining ? 'on' : 'off',
        String(spec.concurrency),
        fmt.int(run.rps),
        fmt.ms(run.latencyMs.p50),
        fmt.ms(run.latencyMs.p99),
        fmt.us(run.redisUsPerOp ?? Number.NaN),
        run.detail ?? '',
      ]),
    ),
  );
  out.push('');
  out.push('In-process local store (dataplane/src/local/create-local-store.ts), 10,000 entries:');
  out.push('');
  out.push(
    table(
      ['policy', 'op', 'keys', 'ops/s', 'ns/op'],
      result.localStore.map((row) => [
        row.policy,
        row.op,
        row.distribution,
        fmt.int(row.opsPerSecond),
        row.nsPerOp.toFixed(0),
      ]),
    ),
  );
  out.push('');

  out.push('## Servers');
  out.push('');
  const used = new Set([...result.closed, ...result.open].map(({ spec }) => spec.target));
  out.push([...used].map((id) => `- \`${id}\`: ${infoOf(id).description}`).join('\n'));
  out.push('');

  const flagged = [...result.closed, ...result.open].filter(({ summary }) => summary.flags.length > 0);
  const problems = Object.entries({ ...result.checks.before, ...result.checks.after }).filter(
    ([, list]) => list.length > 0,
  );
  out.push('## Flags and checks');
  out.push('');
  if (flagged.length === 0 && problems.length === 0)
    out.push('No run was flagged; every sampled answer was correct.');
  for (const { spec, summary } of flagged) out.push(`- ${spec.id}: ${summary.flags.join('; ')}`);
  for (const [id, list] of problems)
    out.push(
      `- check ${id}: ${list.slice(0, 3).join('; ')}${list.length > 3 ? ` (+${list.length - 3})` : ''}`,
    );
  out.push('');
  if (result.notes.length > 0) {
    out.push('## Notes');
    out.push('');
    out.push(result.notes.map((note) => `- ${note}`).join('\n'));
    out.push('');
  }
  const profiles = Object.entries(result.profiles);
  if (profiles.length > 0) {
    out.push('## CPU profiles (top self time, idle excluded)');
    out.push('');
    for (const [id, summary] of profiles) {
      out.push(`### ${id} — busy ${summary.busyMs.toFixed(0)} ms`);
      out.push('');
      out.push(
        table(
          ['self', 'ms', 'function'],
          summary.top.map((row) => [`${row.selfPercent.toFixed(1)}%`, row.selfMs.toFixed(0), row.name]),
          0,
        ),
      );
      out.push('');
    }
  }
  return `${out.join('\n')}\n`;
}

/** "50% of peak", or "50% of dp-redis's peak" when the rate comes from another server's run. */
function shareText(spec: OpenSpec): string {
  const peakTarget = spec.peakOf.slice(spec.peakOf.lastIndexOf('@') + 1);
  const share = `${Math.round(spec.fraction * 100)}%`;
  return peakTarget === spec.target ? `${share} of peak` : `${share} of ${peakTarget}'s peak`;
}

function pathText(runs: Measurement[]): string {
  const paths = runs.map((run) => run.path).filter((path) => path !== undefined);
  if (paths.length === 0) return '';
  const worst = Math.min(...paths.map((path) => path.share));
  return `${paths[0]?.expected} ${(worst * 100).toFixed(worst === 1 ? 0 : 1)}%`;
}

// ---------------------------------------------------------------------------------------------
// Charts

export function renderCharts(result: SuiteResult): { throughput: string; latency: string } {
  const label = (spec: ClosedSpec | OpenSpec): string => {
    const w = spec.workload;
    const what =
      w.op === 'batch'
        ? `batch×${w.batchSize}`
        : w.op === 'mix'
          ? 'mix'
          : w.keySet === 'miss'
            ? 'miss'
            : 'GET';
    const extra = [w.valueSize === 64 ? '' : `${w.valueSize} B`, w.distribution === 'zipf' ? 'zipf' : '']
      .filter(Boolean)
      .join(' ');
    const c = 'concurrency' in spec ? ` c${spec.concurrency}` : '';
    const server =
      'tool' in spec && spec.tool === 'ioredis'
        ? `ioredis${spec.ioredis?.cluster ? ' cluster' : ''}`
        : spec.target;
    return `${w.transport === 'grpc' ? 'gRPC' : 'REST'} ${what}${extra === '' ? '' : ` ${extra}`}${c} · ${server}`;
  };
  const single = result.closed.filter(({ spec }) => spec.workload.op !== 'batch');
  const rows: BarRow[] = single.map(({ spec, summary }) => ({
    label: label(spec),
    value: summary.rps.median,
    min: summary.rps.min,
    max: summary.rps.max,
    group: spec.group,
  }));
  const batches = result.closed.filter(({ spec }) => spec.workload.op === 'batch');
  const batchRows: BarRow[] = batches.map(({ spec, summary }) => ({
    label: `${label(spec)} (keys/s)`,
    value: summary.keysPerSecond.median,
    min: summary.keysPerSecond.min,
    max: summary.keysPerSecond.max,
    group: spec.group,
  }));
  const throughput = barChart(
    `Peak throughput (closed loop), ${result.mode} mode`,
    'calls per second (batches: keys per second, own scale below)',
    rows,
  );
  const batchChart =
    batchRows.length === 0
      ? ''
      : barChart('Batch GET throughput (closed loop)', 'keys per second', batchRows);
  const latencyRows: LatencyRow[] = [
    ...result.open.map(({ spec, summary }) => ({
      label: `${label(spec)} @ ${shareText(spec)}`,
      p50: summary.p50.median,
      p99: summary.p99.median,
      p999: summary.p999.median,
      group: spec.target,
    })),
    ...result.closed
      .filter(({ spec }) => spec.concurrency === 1)
      .map(({ spec, summary }) => ({
        label: `${label(spec)} (closed loop)`,
        p50: summary.p50.median,
        p99: summary.p99.median,
        p999: summary.p999.median,
        group: spec.target,
      })),
  ];
  const latency = latencyChart('Latency percentiles', latencyRows, { value: 2, label: 'p99.9 target 2 ms' });
  return { throughput: batchChart === '' ? throughput : stack(throughput, batchChart), latency };
}

/** Two SVG documents one above the other, as one document. */
function stack(top: string, bottom: string): string {
  const size = (doc: string): { width: number; height: number } => {
    const match = /width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(doc);
    return { width: Number(match?.[1] ?? 0), height: Number(match?.[2] ?? 0) };
  };
  const a = size(top);
  const b = size(bottom);
  const inner = (doc: string): string => doc.replace(/^<svg[^>]*>\n/, '').replace(/<\/svg>\n?$/, '');
  const width = Math.max(a.width, b.width);
  const height = a.height + b.height;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<svg width="${a.width}" height="${a.height}">${inner(top)}</svg>`,
    `<svg y="${a.height}" width="${b.width}" height="${b.height}">${inner(bottom)}</svg>`,
    '</svg>',
    '',
  ].join('\n');
}
