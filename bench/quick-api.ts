// Quick API benchmark (npm run bench:quick, about 2.5 minutes): requests/s and p50/p99 latency of
// GET and SET over REST (wrk) and gRPC (bench/grpc-load.ts) against
//   - bare Koa and bare grpc-js servers answering constants (the baselines),
//   - the data plane on its embedded default (local cache only),
//   - the data plane on a real Redis standalone with the local cache disabled.
// Each server runs alone in a child process, one at a time; everything is on 127.0.0.1.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { signToken } from '../dataplane/src/auth/jwt-verifier.ts';
import { startRedisStandalone, type RedisServerHandle } from '../dataplane/test/support/redis-harness.ts';
import { GET_KEY, NAMESPACE, SET_KEY, TTL_SECONDS, VALUE } from './constants.ts';
import { runGrpcLoad, runWrk, type LoadResult, type Timing } from './load.ts';
import { cpuSnapshot, otherCpuPercent } from './other-cpu.ts';
import { freePort, start, stop, stopAll, waitUntil, type Spawned } from './processes.ts';
import { formatTable, OTHER_CPU_WARNING, type Row } from './report.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'bench-secret-that-is-at-least-32-characters-long';
const TOKEN = signToken(SECRET, { subject: 'bench', namespaces: [NAMESPACE], ttlSeconds: 3600 });
const IN_FLIGHT = 32;
const TIMING: Timing = { warmupS: 2, durationS: 8 };
/** The one-in-flight runs measure a p50 only, which settles quickly. */
const ONE_IN_FLIGHT_TIMING: Timing = { warmupS: 2, durationS: 4 };
const START_TIMEOUT_MS = 20_000;
/** The whole benchmark is stopped, children included, if it runs longer than this. */
const WATCHDOG_MS = 5 * 60_000;

interface Target {
  name: string;
  baseline: boolean;
  /** The `source` a data-plane GET must answer from (REST spelling); unchecked for baselines. */
  source?: 'local' | 'redis';
}

interface DataPlane {
  process: Spawned;
  httpUrl: string;
  grpcAddress: string;
}

// ---------------------------------------------------------------------------------------------
// Servers

/** A baseline server file that prints its port once it listens. */
async function startBaseline(file: string): Promise<{ process: Spawned; port: number }> {
  const child = start(process.execPath, [resolve(import.meta.dirname, file)]);
  const port = (): number => Number.parseInt(child.stdout(), 10);
  await waitUntil(child, `${file} to print its port`, () => port() > 0, START_TIMEOUT_MS);
  return { process: child, port: port() };
}

async function startDataPlane(env: Record<string, string>): Promise<DataPlane> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const child = start(process.execPath, [resolve(ROOT, 'dataplane/src/main.ts')], {
    SERVER_HOST: '127.0.0.1',
    SERVER_HTTP_PORT: String(httpPort),
    SERVER_GRPC_PORT: String(grpcPort),
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const ready = async (): Promise<boolean> => (await fetch(`${httpUrl}/ready`)).status === 200;
  await waitUntil(child, 'the data plane to be ready', ready, START_TIMEOUT_MS);
  return { process: child, httpUrl, grpcAddress: `127.0.0.1:${grpcPort}` };
}

// ---------------------------------------------------------------------------------------------
// Measurements

function keyUrl(baseUrl: string, key: string): string {
  return `${baseUrl}/api/v1/cache/${NAMESPACE}/${key}`;
}

const SET_BODY = JSON.stringify({ value: VALUE, ttlSeconds: TTL_SECONDS });

/** Writes the GET key, then reads it back: wrk counts statuses only, so the bodies are checked here. */
async function prepareRest(target: Target, baseUrl: string): Promise<void> {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const put = await fetch(keyUrl(baseUrl, GET_KEY), { method: 'PUT', headers, body: SET_BODY });
  const written = (await put.json()) as { success?: boolean; degraded?: boolean };
  if (put.status !== 200 || written.success !== true || written.degraded !== false) {
    throw new Error(`${target.name}: PUT answered ${put.status} ${JSON.stringify(written)}`);
  }
  const get = await fetch(keyUrl(baseUrl, GET_KEY), { headers });
  const read = (await get.json()) as { value?: string; source?: string; degraded?: boolean };
  const sourceOk = target.source === undefined || read.source === target.source;
  if (get.status !== 200 || read.value !== VALUE || read.degraded !== false || !sourceOk) {
    throw new Error(`${target.name}: GET answered ${get.status} ${JSON.stringify(read)}`);
  }
}

/** Runs one load (warm-up included) and notes how much CPU other processes took meanwhile. */
async function measured(load: () => Promise<LoadResult>): Promise<LoadResult> {
  const from = cpuSnapshot();
  const result = await load();
  return { ...result, otherCpuPercent: otherCpuPercent(from, cpuSnapshot()) };
}

async function measureRest(target: Target, baseUrl: string): Promise<Row[]> {
  await prepareRest(target, baseUrl);
  const common = { token: TOKEN, connections: IN_FLIGHT, ...TIMING };
  const get = await measured(() => runWrk({ ...common, url: keyUrl(baseUrl, GET_KEY), method: 'GET' }));
  const set = await measured(() =>
    runWrk({ ...common, url: keyUrl(baseUrl, SET_KEY), method: 'PUT', body: SET_BODY }),
  );
  const row = {
    target: target.name,
    baseline: target.baseline,
    transport: 'REST',
    inFlight: IN_FLIGHT,
  } as const;
  return [
    { ...row, op: 'GET', result: get },
    { ...row, op: 'SET', result: set },
  ];
}

/** GET then SET with 32 in flight, plus a one-in-flight GET when asked. Needs the GET key written. */
async function measureGrpc(target: Target, address: string, oneInFlight: boolean): Promise<Row[]> {
  const common = {
    address,
    token: target.baseline ? '' : TOKEN,
    ...(target.source === undefined ? {} : { expectSource: `CACHE_SOURCE_${target.source.toUpperCase()}` }),
  };
  const row = { target: target.name, baseline: target.baseline, transport: 'gRPC' } as const;
  const rows: Row[] = [];
  for (const op of ['get', 'set'] as const) {
    const result = await measured(() => runGrpcLoad({ ...common, op, concurrency: IN_FLIGHT, ...TIMING }));
    rows.push({ ...row, op: op === 'get' ? 'GET' : 'SET', inFlight: IN_FLIGHT, result });
  }
  if (oneInFlight) {
    const result = await measured(() =>
      runGrpcLoad({ ...common, op: 'get', concurrency: 1, ...ONE_IN_FLIGHT_TIMING }),
    );
    rows.push({ ...row, op: 'GET', inFlight: 1, result });
  }
  return rows;
}

/** Runs `measure` against a server started for it, and stops the server whatever happens. */
async function withServer<S extends { process: Spawned }>(
  server: Promise<S>,
  measure: (started: S) => Promise<Row[]>,
): Promise<Row[]> {
  const started = await server;
  try {
    return await measure(started);
  } finally {
    await stop(started.process);
  }
}

async function measureAll(log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const bareKoa: Target = { name: 'bare Koa', baseline: true };
  const bareGrpc: Target = { name: 'bare grpc-js', baseline: true };
  const embedded: Target = { name: 'data plane, embedded', baseline: false, source: 'local' };
  const redis: Target = { name: 'data plane, Redis', baseline: false, source: 'redis' };

  log(`${bareKoa.name}: REST`);
  rows.push(
    ...(await withServer(startBaseline('baseline-koa-server.ts'), ({ port }) =>
      measureRest(bareKoa, `http://127.0.0.1:${port}`),
    )),
  );
  log(`${bareGrpc.name}: gRPC`);
  rows.push(
    ...(await withServer(startBaseline('baseline-grpc-server.ts'), ({ port }) =>
      measureGrpc(bareGrpc, `127.0.0.1:${port}`, true),
    )),
  );

  log(`${embedded.name}: REST and gRPC`);
  rows.push(
    ...(await withServer(startDataPlane({}), async ({ httpUrl, grpcAddress }) => [
      ...(await measureRest(embedded, httpUrl)),
      ...(await measureGrpc(embedded, grpcAddress, false)),
    ])),
  );

  let redisServer: RedisServerHandle | undefined;
  try {
    redisServer = await startRedisStandalone();
    const env = { REDIS_ADDRESSES: redisServer.address, CACHE_LOCAL_CACHE_ENABLED: 'false' };
    log(`${redis.name} (${redisServer.address}): REST and gRPC`);
    rows.push(
      ...(await withServer(startDataPlane(env), async ({ httpUrl, grpcAddress }) => [
        ...(await measureRest(redis, httpUrl)),
        ...(await measureGrpc(redis, grpcAddress, true)),
      ])),
    );
  } finally {
    await redisServer?.stop();
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

const startedAt = Date.now();
const elapsed = (): string => `${((Date.now() - startedAt) / 1000).toFixed(0)} s`;
const log = (line: string): void => console.error(`[bench ${elapsed()}] ${line}`);
const watchdog = setTimeout(() => {
  log(`still running after ${WATCHDOG_MS / 1000} s: stopping`);
  process.exit(1); // the exit hooks kill every child, Redis included
}, WATCHDOG_MS);

try {
  const idleCheck = cpuSnapshot();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const busyBefore = otherCpuPercent(idleCheck, cpuSnapshot());
  if (busyBefore > OTHER_CPU_WARNING)
    log(`warning: other processes already use ${busyBefore.toFixed(0)}% CPU`);
  const rows = await measureAll(log);
  console.log(
    `\ncacheplane quick API benchmark: ${availableParallelism()} CPUs, Node ${process.version}; ` +
      `wrk -t1 -c${IN_FLIGHT} and grpc-js with ${IN_FLIGHT} (or 1) calls in flight on one channel; ` +
      `${TIMING.warmupS} s warm-up + ${TIMING.durationS} s measured ` +
      `(${ONE_IN_FLIGHT_TIMING.durationS} s at 1 in flight); ${VALUE.length}-byte values; ` +
      `other processes' CPU before start: ${busyBefore.toFixed(0)}%.\n` +
      'gen CPU: the gRPC load generator, in % of one core. ' +
      'other CPU: processes outside the benchmark during the run, in % of the whole machine.\n',
  );
  console.log(formatTable(rows));
  console.log(`\ntotal ${elapsed()}`);
  process.exitCode = rows.some((row) => row.result.errors > 0) ? 1 : 0;
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await stopAll();
}
