// The benchmark suite: `npm run bench` (quick, under 3 minutes) or `npm run bench:full` (the matrix).
//   node bench/run.ts [--full] [--profile] [--only <id part>[,<id part>…]] [--rounds N] [--measure S] [--out DIR]
// Starts Redis (standalone and Cluster), the data plane in several configurations and the baseline
// servers, loads the keys, measures (closed loop in interleaved rounds, then open loop at shares of the
// measured peaks, then the baselines outside the data plane), checks the answers, and writes
// result.json, report.md and two SVG charts into bench/results/<timestamp>/. See docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { cpuSnapshot, otherCpuPercent } from './other-cpu.ts';
import { stopAll } from './processes.ts';
import { checkRestResponse, preload, verifySample } from './lib/checks.ts';
import { reapedChildrenCpuMs } from './lib/cpu.ts';
import { KEY_COUNT, keyName } from './lib/dataset.ts';
import { measure, type Measurement } from './lib/measure.ts';
import { formatProfile, summarizeProfile } from './lib/profile.ts';
import {
  ratioResult,
  renderCharts,
  renderMarkdown,
  summarize,
  verdict,
  type SuiteResult,
} from './lib/report.ts';
import {
  fullPlan,
  quickPlan,
  targetsOf,
  withBefore,
  workloadId,
  type ClosedSpec,
  type OpenSpec,
  type Plan,
} from './lib/scenarios.ts';
import { infoOf, startServers, TOKEN, type Servers, type TargetRef } from './lib/servers.ts';
import { spread } from './lib/stats.ts';
import {
  mergeResults,
  runGhz,
  runIoredis,
  runLocalStore,
  runRedisBenchmark,
  runVegeta,
  runWrk,
  toolBinDir,
  WorkFiles,
  type ToolResult,
} from './lib/tools.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** A closed-loop run during which other processes used more of the machine is measured again. */
const RETRY_OTHER_CPU_PERCENT = 30;

// ---------------------------------------------------------------------------------------------
// Command line

interface Options {
  full: boolean;
  profile: boolean;
  only: string[];
  rounds: number | undefined;
  measureS: number | undefined;
  out: string | undefined;
  before: string | undefined;
  closedOnly: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    full: false,
    profile: false,
    only: [],
    rounds: undefined,
    measureS: undefined,
    out: undefined,
    before: undefined,
    closedOnly: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--full') options.full = true;
    else if (arg === '--quick') options.full = false;
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--only') options.only = value().split(',').filter(Boolean);
    else if (arg === '--rounds') options.rounds = Number(value());
    else if (arg === '--measure') options.measureS = Number(value());
    else if (arg === '--out') options.out = resolve(value());
    else if (arg === '--before') options.before = resolve(value());
    else if (arg === '--closed-only') options.closedOnly = true;
    else throw new Error(`unknown argument ${arg}; see the header of bench/run.ts`);
  }
  return options;
}

function planFor(options: Options): Plan {
  let plan = options.full ? fullPlan() : quickPlan();
  if (options.rounds !== undefined) plan.rounds = options.rounds;
  if (options.measureS !== undefined) plan.measureS = options.measureS;
  if (options.only.length > 0) {
    const keep = (id: string): boolean => options.only.some((part) => id.includes(part));
    plan.closed = plan.closed.filter((spec) => keep(spec.id));
    const kept = new Set(plan.closed.map((spec) => spec.id));
    plan.open = plan.open.filter((spec) => kept.has(spec.peakOf) && keep(spec.id));
    if (!options.only.includes('baselines')) {
      plan.redisBenchmark = [];
      plan.ioredisGets = [];
      plan.singles = [];
      plan.localStoreMs = 0;
    }
  }
  if (options.closedOnly) plan.open = [];
  if (options.before !== undefined) plan = withBefore(plan);
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Runs

interface Context {
  plan: Plan;
  servers: Servers;
  work: WorkFiles;
  log: (line: string) => void;
}

function keysPerCall(spec: ClosedSpec | OpenSpec): number {
  return spec.workload.op === 'batch' ? (spec.workload.batchSize ?? 1) : 1;
}

function redisPidsFor(ctx: Context, target: TargetRef): number[] {
  const flavour = infoOf(target).redis;
  return flavour === undefined ? [] : ctx.servers.redisPids(flavour);
}

/** One closed-loop run of a spec. `warmupS` is cut off the front of ghz/ioredis runs, run before wrk. */
async function runClosed(
  ctx: Context,
  spec: ClosedSpec,
  warmupS: number,
  measureS: number,
): Promise<Measurement> {
  const w = spec.workload;
  const name = `${workloadId(w)}`;
  if (spec.tool === 'ioredis') {
    const flavour = spec.ioredis?.cluster === true ? 'cluster' : 'standalone';
    const addresses =
      flavour === 'cluster'
        ? (ctx.servers.cluster?.addresses ?? [])
        : [ctx.servers.standalone?.address ?? ''];
    return measure(
      {
        server: undefined,
        redisPids: ctx.servers.redisPids(flavour),
        workload: w,
        keysPerCall: keysPerCall(spec),
      },
      () =>
        runIoredis({
          addresses,
          cluster: flavour === 'cluster',
          autoPipelining: spec.ioredis?.autoPipelining ?? true,
          keysFile: ctx.work.ioredis(w, name),
          op: w.op === 'batch' ? 'mget' : 'get',
          concurrency: spec.concurrency,
          warmupMs: warmupS * 1000,
          durationMs: measureS * 1000,
        }),
    );
  }
  const server = ctx.servers.get(spec.target);
  const context = {
    server,
    redisPids: redisPidsFor(ctx, spec.target),
    workload: w,
    keysPerCall: keysPerCall(spec),
  };
  if (spec.tool === 'wrk') {
    const wrk = {
      baseUrl: server.httpUrl as string,
      requestsFile: ctx.work.wrk(w, name),
      token: TOKEN,
      connections: spec.concurrency,
      expectStatus: w.keySet === 'miss' && server.info.kind === 'dataplane' ? (404 as const) : (200 as const),
    };
    // wrk cannot cut a warm-up off its figures: a warm-up of a second or more is a run of its own.
    if (warmupS >= 1) await runWrk({ ...wrk, seconds: Math.round(warmupS) });
    return measure(context, () => runWrk({ ...wrk, seconds: measureS }));
  }
  const files = ctx.work.ghz(w, name);
  const ghz = (
    call: 'Get' | 'Set' | 'BatchGet',
    dataFile: string,
    concurrency: number,
    tag: string,
  ): Promise<ToolResult> =>
    runGhz({
      address: server.grpcAddress as string,
      call,
      dataFile,
      token: TOKEN,
      concurrency,
      warmupS,
      measureS,
      outFile: ctx.work.path(`ghz-${tag}.json`),
    });
  if (w.op === 'mix') {
    const sets = Math.max(1, Math.round(spec.concurrency / 10));
    return measure(context, async () => {
      const [get, set] = await Promise.all([
        ghz('Get', files.get, spec.concurrency - sets, 'get'),
        ghz('Set', files.set as string, sets, 'set'),
      ]);
      return mergeResults(get, set);
    });
  }
  return measure(context, () =>
    ghz(w.op === 'batch' ? 'BatchGet' : 'Get', files.get, spec.concurrency, 'run'),
  );
}

async function runOpen(ctx: Context, spec: OpenSpec, rate: number): Promise<Measurement> {
  const w = spec.workload;
  const server = ctx.servers.get(spec.target);
  const context = {
    server,
    redisPids: redisPidsFor(ctx, spec.target),
    workload: w,
    keysPerCall: keysPerCall(spec),
  };
  const warmupS = ctx.plan.mode === 'quick' ? 0.5 : 1;
  const measureS = ctx.plan.openMeasureS;
  const name = workloadId(w);
  const result = await measure(context, async () => {
    if (spec.tool === 'ghz') {
      return runGhz({
        address: server.grpcAddress as string,
        call: w.op === 'batch' ? 'BatchGet' : 'Get',
        dataFile: ctx.work.ghz(w, name).get,
        token: TOKEN,
        concurrency: 8,
        warmupS,
        measureS,
        rps: rate,
        outFile: ctx.work.path('ghz-open.json'),
      });
    }
    return runVegeta({
      targetsFile: ctx.work.vegeta(w, `${name}.${spec.target}`, server.httpUrl as string, TOKEN),
      rate,
      warmupS,
      measureS,
      outFile: ctx.work.path('vegeta.bin'),
      check: (response) => checkRestResponse(server, w, response),
    });
  });
  result.targetRate = rate;
  if (result.rps < rate * 0.97) {
    result.flags.push(
      `achieved ${Math.round(result.rps)}/s of the ${Math.round(rate)}/s asked: the generator fell behind`,
    );
  }
  return result;
}

function describe(spec: ClosedSpec | OpenSpec, run: Measurement): string {
  const rate = 'fraction' in spec ? ` @${Math.round(spec.fraction * 100)}%` : '';
  const keys = spec.workload.op === 'batch' ? ` ${Math.round(run.keysPerSecond)} keys/s` : '';
  const cpu = run.serverUsPerOp === undefined ? '' : ` server ${run.serverUsPerOp.toFixed(0)} µs/call`;
  const flags = run.flags.length === 0 ? '' : `  ⚠ ${run.flags.join('; ')}`;
  const { p50, p99, p999 } = run.latencyMs;
  return (
    `${spec.id}${rate}: ${Math.round(run.rps)}/s${keys} p50 ${fixed(p50, 3)} p99 ${fixed(p99, 3)} ` +
    `p99.9 ${fixed(p999, 3)} ms;${cpu} gen ${fixed(run.generatorCpuPercent, 0)}%${flags}`
  );
}

/** A figure for the progress line; a run without successful calls has none (null once through JSON). */
function fixed(value: number | null | undefined, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

async function verifyAll(ctx: Context): Promise<Record<string, string[]>> {
  const problems: Record<string, string[]> = {};
  const done = new Set<string>();
  for (const spec of [...ctx.plan.closed, ...ctx.plan.singles, ...ctx.plan.open]) {
    if ('tool' in spec && spec.tool === 'ioredis') continue;
    const key = `${spec.target} ${workloadId(spec.workload)}`;
    if (done.has(key)) continue;
    done.add(key);
    problems[key] = await verifySample(ctx.servers.get(spec.target), spec.workload, TOKEN);
    if (problems[key].length > 0) ctx.log(`check ${key}: ${problems[key].slice(0, 3).join('; ')}`);
  }
  return problems;
}

/** Runs a step whose failure should not lose the rest of the run: it is noted in the report instead. */
async function attempt<T>(result: SuiteResult, what: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    result.notes.push(`${what} failed: ${message}`);
    console.error(`[bench] ${what} failed: ${message}`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Environment description

function commandOutput(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? '');
  }
}

function toolVersions(): Record<string, string> {
  const pinned = (name: string): string => {
    try {
      return (
        readFileSync(join(toolBinDir(), `.${name}.version`), 'utf8')
          .trim()
          .split('@')
          .at(-1) ?? '?'
      );
    } catch {
      return '?';
    }
  };
  return {
    ghz: pinned('ghz'),
    vegeta: pinned('vegeta'),
    wrk: commandOutput('wrk', ['-v']).split('\n')[0]?.split(' [')[0] ?? 'wrk',
    redis: /v=(\S+)/.exec(commandOutput('redis-server', ['--version']))?.[1] ?? '?',
  };
}

function machine(): Record<string, string | number> {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(options: Options, log: (line: string) => void, startedAt: Date): Promise<number> {
  const plan = planFor(options);
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const outDir = options.out ?? join(ROOT, 'bench/results', `${stamp}-${plan.mode}`);
  const workDir = join(outDir, 'work');
  const profileDir = options.profile ? join(outDir, 'profiles') : undefined;
  mkdirSync(outDir, { recursive: true });
  log(
    `${plan.mode} mode: ${plan.closed.length} closed-loop runs × ${plan.rounds} rounds, ${plan.open.length} open-loop runs; results in ${relative(process.cwd(), outDir)}`,
  );

  const idle = cpuSnapshot();
  await new Promise((done) => setTimeout(done, 1000));
  const idleOtherCpuPercent = otherCpuPercent(idle, cpuSnapshot());
  if (idleOtherCpuPercent > 10)
    log(`note: other processes already use ${idleOtherCpuPercent.toFixed(0)}% of the machine`);

  const targets = targetsOf(plan);
  log(`starting ${targets.join(', ')}`);
  const servers = await startServers({ targets, profileDir, log, beforeMain: options.before });
  const ctx: Context = { plan, servers, work: new WorkFiles(workDir), log };
  const result: SuiteResult = {
    version: 1,
    mode: plan.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationS: 0,
    command: `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    tools: toolVersions(),
    plan: {
      rounds: plan.rounds,
      measureS: plan.measureS,
      warmupS: plan.warmupS,
      openMeasureS: plan.openMeasureS,
      openRepeats: plan.openRepeats,
    },
    idleOtherCpuPercent,
    closed: [],
    open: [],
    ratios: [],
    latencies: [],
    redisBenchmark: [],
    ioredis: [],
    localStore: [],
    checks: { before: {}, after: {} },
    profiles: {},
    notes: [],
  };

  try {
    // Keys: every value size written through one data plane per store, and through every data plane
    // with a local cache of its own (to fill it).
    const writers: TargetRef[] = [
      ...(['dp-near', 'dp-redis', 'dp-nometrics'] as const).filter((id) => servers.has(id)).slice(0, 1),
      ...(['dp-cluster', 'dp-embedded', 'dp-near~before', 'dp-embedded~before'] as const).filter((id) =>
        servers.has(id),
      ),
    ];
    for (const id of writers) {
      for (const size of plan.valueSizes) {
        const keys = Array.from({ length: KEY_COUNT }, (_, index) => keyName(size, index));
        await preload(servers.get(id), TOKEN, keys, size);
      }
    }
    log(`wrote ${KEY_COUNT} keys × ${plan.valueSizes.join('/')} B through ${writers.join(', ')}`);
    result.checks.before = await verifyAll(ctx);

    // Warm-up pass: every closed-loop run once, not recorded.
    // (One per server and call type: the one-in-flight runs reuse what the others warmed.)
    const warmed = new Set<string>();
    for (const spec of [...plan.closed, ...plan.singles]) {
      const what = `${spec.target} ${spec.tool} ${spec.workload.op}`;
      if (warmed.has(what)) continue;
      warmed.add(what);
      await runClosed(ctx, spec, 0, 0.7);
    }
    log('warm-up pass done');

    // Closed loop: interleaved rounds, forward then reverse order.
    const runs = new Map<string, Measurement[]>(plan.closed.map((spec) => [spec.id, []]));
    let retries = plan.retries;
    for (let round = 0; round < plan.rounds; round += 1) {
      const order = round % 2 === 0 ? plan.closed : [...plan.closed].reverse();
      for (const spec of order) {
        let run = await runClosed(ctx, spec, plan.warmupS, spec.measureS ?? plan.measureS);
        log(`round ${round + 1}/${plan.rounds} ${describe(spec, run)}`);
        // Another process's burst lowers one run: measure it again (once), keep the quieter try.
        if (run.otherCpuPercent > RETRY_OTHER_CPU_PERCENT && retries > 0) {
          retries -= 1;
          const again = await runClosed(ctx, spec, plan.warmupS, spec.measureS ?? plan.measureS);
          const [kept, dropped] = again.otherCpuPercent < run.otherCpuPercent ? [again, run] : [run, again];
          kept.flags.push(
            `re-measured (other CPU ${dropped.otherCpuPercent.toFixed(0)}% on the dropped try)`,
          );
          run = kept;
          log(`  again: ${describe(spec, again)}`);
        }
        runs.get(spec.id)?.push(run);
      }
    }
    for (const spec of plan.singles) {
      const run = await runClosed(ctx, spec, plan.warmupS, spec.measureS ?? plan.measureS);
      runs.set(spec.id, [run]);
      log(`single ${describe(spec, run)}`);
    }
    result.closed = [...plan.closed, ...plan.singles].map((spec) => {
      const specRuns = runs.get(spec.id) ?? [];
      return { spec, runs: specRuns, summary: summarize(specRuns) };
    });

    // Open loop at shares of the measured peaks.
    const peak = (id: string): number => spread((runs.get(id) ?? []).map((run) => run.rps)).median;
    const openRuns = new Map<string, Measurement[]>(plan.open.map((spec) => [spec.id, []]));
    for (let repeat = 0; repeat < plan.openRepeats; repeat += 1) {
      const order = repeat % 2 === 0 ? plan.open : [...plan.open].reverse();
      for (const spec of order) {
        const run = await attempt(result, spec.id, () =>
          runOpen(ctx, spec, spec.fraction * peak(spec.peakOf)),
        );
        if (run === undefined) continue;
        openRuns.get(spec.id)?.push(run);
        log(`open ${repeat + 1}/${plan.openRepeats} ${describe(spec, run)}`);
      }
    }
    result.open = plan.open.map((spec) => {
      const specRuns = openRuns.get(spec.id) ?? [];
      return { spec, rate: spec.fraction * peak(spec.peakOf), runs: specRuns, summary: summarize(specRuns) };
    });

    // Baselines outside the data plane.
    for (const spec of plan.redisBenchmark) {
      const address = spec.cluster ? servers.cluster?.addresses[0] : servers.standalone?.address;
      if (address === undefined) continue;
      const before = reapedChildrenCpuMs();
      const wall = performance.now();
      const rows = await attempt(result, spec.id, () =>
        runRedisBenchmark({ ...spec, address, valueSize: 64 }),
      );
      if (rows === undefined) continue;
      const clientCpuPercent = ((reapedChildrenCpuMs() - before) / (performance.now() - wall)) * 100;
      result.redisBenchmark.push({ spec, rows, clientCpuPercent });
      log(`${spec.id}: ${rows.map((row) => `${row.test} ${Math.round(row.rps)}/s`).join(', ')}`);
    }
    for (const spec of plan.ioredisGets) {
      const run = await attempt(result, spec.id, () =>
        runClosed(ctx, spec, 0.3, plan.mode === 'quick' ? 1 : 2),
      );
      if (run === undefined) continue;
      result.ioredis.push({ spec, run });
      log(describe(spec, run));
    }
    if (plan.localStoreMs > 0) {
      result.localStore =
        (await attempt(result, 'local store', () => runLocalStore(64, plan.localStoreMs))) ?? [];
      log(
        `local store: ${result.localStore.map((row) => `${row.policy} ${row.op} ${row.distribution} ${row.nsPerOp.toFixed(0)} ns`).join(', ')}`,
      );
    }
    result.checks.after = await verifyAll(ctx);
  } finally {
    await servers.stopAll();
  }

  // Verdicts.
  const closedRuns = new Map(result.closed.map(({ spec, runs }) => [spec.id, runs]));
  const anyRuns = new Map([...closedRuns, ...result.open.map(({ spec, runs }) => [spec.id, runs] as const)]);
  for (const spec of plan.ratios) {
    const numerator = closedRuns.get(spec.numerator);
    const denominator = closedRuns.get(spec.denominator);
    if (numerator === undefined || denominator === undefined) continue;
    result.ratios.push(ratioResult(spec, numerator, denominator));
  }
  for (const spec of plan.latencies) {
    const specRuns = anyRuns.get(spec.run);
    if (specRuns === undefined) continue;
    const valuesMs = specRuns.map((run) => run.latencyMs[spec.percentile]);
    const floorRuns = spec.floorRun === undefined ? undefined : anyRuns.get(spec.floorRun);
    result.latencies.push({
      spec,
      valuesMs,
      value: spread(valuesMs),
      verdict: verdict(valuesMs, spec.targetMs, false),
      ...(floorRuns === undefined
        ? {}
        : { floor: spread(floorRuns.map((run) => run.latencyMs[spec.percentile])) }),
    });
  }

  if (profileDir !== undefined) {
    for (const file of readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) {
      const summary = summarizeProfile(join(profileDir, file), 20);
      result.profiles[file.replace(/\.cpuprofile$/, '')] = summary;
      writeFileSync(join(profileDir, file.replace(/\.cpuprofile$/, '.txt')), `${formatProfile(summary)}\n`);
    }
  }

  const finishedAt = new Date();
  result.finishedAt = finishedAt.toISOString();
  result.durationS = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  rmSync(workDir, { recursive: true, force: true });
  writeFileSync(join(outDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const charts = renderCharts(result);
  writeFileSync(join(outDir, 'throughput.svg'), charts.throughput);
  writeFileSync(join(outDir, 'latency.svg'), charts.latency);
  const markdown = renderMarkdown(result);
  writeFileSync(join(outDir, 'report.md'), markdown);

  const targetsSection = markdown.split('\n## ')[1]?.split('![throughput]')[0] ?? '';
  console.log(`\n## ${targetsSection.trim()}\n`);
  console.log(
    `report: ${relative(process.cwd(), join(outDir, 'report.md'))} (${result.durationS.toFixed(0)} s)`,
  );
  const failed =
    [...result.closed, ...result.open].some(({ summary }) => summary.errors > 0) ||
    Object.values({ ...result.checks.before, ...result.checks.after }).some((list) => list.length > 0) ||
    result.notes.some((note) => note.includes(' failed: '));
  return failed ? 1 : 0;
}

const startedAt = new Date();
const log = (line: string): void =>
  console.error(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const options = parseArgs(process.argv.slice(2));
const watchdogMs = (options.full ? 120 : 10) * 60_000;
const watchdog = setTimeout(() => {
  log(`still running after ${watchdogMs / 60_000} min: stopping`);
  process.exit(1); // the exit hooks kill every child, Redis included
}, watchdogMs);
try {
  process.exitCode = await main(options, log, startedAt);
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await stopAll();
}
