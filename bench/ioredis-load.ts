// The direct-Redis baseline, run as a child process: an ioredis client built the way the data plane
// builds its own (dataplane/src/redis/connect.ts), keeping `concurrency` GETs or MGETs in flight for a
// warm-up and a measured period, checking every answer. Prints one JSON line: IoredisLoadReport.
//   node bench/ioredis-load.ts '<IoredisLoadOptions as JSON>'
import { readFileSync } from 'node:fs';
import { createRedisClient, waitUntilReady } from '../dataplane/src/redis/connect.ts';
import { hashSlot } from '../dataplane/src/redis/hash-slot.ts';
import { percentiles } from './lib/stats.ts';

export interface IoredisLoadOptions {
  addresses: string[];
  cluster: boolean;
  autoPipelining: boolean;
  /** A JSON file: an array of batches of Redis keys (one key per batch for GET). */
  keysFile: string;
  op: 'get' | 'mget';
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface IoredisLoadReport {
  /** Calls (GET or MGET) completed in the measured period. */
  calls: number;
  keys: number;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  errors: number;
  firstError?: string;
  /** This process's CPU over the whole run, in µs per call. */
  cpuUsPerCall: number;
}

const options = JSON.parse(process.argv[2] ?? '') as IoredisLoadOptions;
const batches = JSON.parse(readFileSync(options.keysFile, 'utf8')) as string[][];
const client = createRedisClient({
  addresses: options.addresses,
  username: undefined,
  password: undefined,
  db: 0,
  clusterMode: options.cluster,
  tlsEnabled: false,
  dialTimeoutMs: 5000,
  commandTimeoutMs: 5000,
  autoPipelining: options.autoPipelining,
  breaker: { maxFailures: 5, openTimeoutMs: 10_000, halfOpenMaxRequests: 1 },
  replayIntervalMs: 1000,
});
await waitUntilReady(client, 10_000);

let next = 0;
let errors = 0;
let firstError: string | undefined;
const latencies: number[] = [];
let keys = 0;

async function call(batch: string[]): Promise<void> {
  if (options.op === 'get') {
    const value = await client.getBuffer(batch[0] as string);
    if (value === null) throw new Error(`GET ${batch[0]}: no value`);
    return;
  }
  // A Cluster refuses an MGET across hash slots (CROSSSLOT): one MGET per slot, in parallel, as the
  // data plane does (RedisStore.getMany).
  const groups = options.cluster ? groupBySlot(batch) : [batch];
  await Promise.all(
    groups.map(async (keys) => {
      const values = await client.mgetBuffer(keys);
      const missing = values.findIndex((value) => value === null);
      if (missing >= 0) throw new Error(`MGET: no value for ${keys[missing]}`);
    }),
  );
}

function groupBySlot(keys: string[]): string[][] {
  const bySlot = new Map<number, string[]>();
  for (const key of keys) {
    const slot = hashSlot(key);
    const group = bySlot.get(slot);
    if (group === undefined) bySlot.set(slot, [key]);
    else group.push(key);
  }
  return [...bySlot.values()];
}

const started = process.hrtime.bigint();
const measureFrom = started + BigInt(options.warmupMs) * 1_000_000n;
const end = measureFrom + BigInt(options.durationMs) * 1_000_000n;
const cpuFrom = process.cpuUsage();
let totalCalls = 0;

async function worker(): Promise<void> {
  while (process.hrtime.bigint() < end) {
    const batch = batches[next % batches.length] as string[];
    next += 1;
    const callStart = process.hrtime.bigint();
    let failed = false;
    try {
      await call(batch);
    } catch (error) {
      failed = true;
      if (callStart >= measureFrom) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
    totalCalls += 1;
    if (callStart < measureFrom || failed) continue;
    latencies.push(Number(process.hrtime.bigint() - callStart) / 1e6);
    keys += batch.length;
  }
}
await Promise.all(Array.from({ length: options.concurrency }, worker));
const seconds = Number(process.hrtime.bigint() - measureFrom) / 1e9;
const cpu = process.cpuUsage(cpuFrom);
client.disconnect();

const report: IoredisLoadReport = {
  calls: latencies.length,
  keys,
  seconds,
  latencyMs: percentiles(Float64Array.from(latencies)),
  errors,
  ...(firstError === undefined ? {} : { firstError }),
  cpuUsPerCall: (cpu.user + cpu.system) / Math.max(1, totalCalls),
};
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
