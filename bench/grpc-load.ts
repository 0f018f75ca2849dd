// gRPC load generator, run as a child process: keeps `concurrency` unary Get or Set calls in flight
// on one channel, for a warm-up and then a measured period, checks every answer, and prints one
// JSON line: GrpcLoadReport.
//   node bench/grpc-load.ts '<GrpcLoadOptions as JSON>'
import { credentials, Metadata } from '@grpc/grpc-js';
import type { GetResponse__Output } from '../dataplane/src/generated/cache/v1/GetResponse.ts';
import type { SetResponse__Output } from '../dataplane/src/generated/cache/v1/SetResponse.ts';
import { loadCacheProto } from '../dataplane/src/grpc/proto.ts';
import { GET_KEY, NAMESPACE, SET_KEY, TTL_SECONDS, VALUE } from './constants.ts';

export interface GrpcLoadOptions {
  address: string;
  /** Sent as `authorization: Bearer <token>`; none when empty. */
  token: string;
  op: 'get' | 'set';
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** The source a Get must answer from, e.g. CACHE_SOURCE_REDIS; any when absent. */
  expectSource?: string;
}

export interface GrpcLoadReport {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  firstError?: string;
  /** This process's CPU time over the measured period, in % of one core. */
  cpuPercent: number;
}

const CALL_TIMEOUT_MS = 5000;
const VALUE_BYTES = Buffer.from(VALUE);

const options = JSON.parse(process.argv[2] ?? '') as GrpcLoadOptions;
const { CacheService } = loadCacheProto().grpcType.cache.v1;
const client = new CacheService(options.address, credentials.createInsecure());
const metadata = new Metadata();
if (options.token !== '') metadata.set('authorization', `Bearer ${options.token}`);

/** One call; resolves with what was wrong with it, or undefined when it was answered correctly. */
function callOnce(): Promise<string | undefined> {
  const callOptions = { deadline: Date.now() + CALL_TIMEOUT_MS };
  return new Promise((resolve) => {
    if (options.op === 'get') {
      client.Get({ namespace: NAMESPACE, key: GET_KEY }, metadata, callOptions, (error, response) => {
        resolve(error ? error.message : checkGet(response));
      });
    } else {
      const request = { namespace: NAMESPACE, key: SET_KEY, value: VALUE_BYTES, ttlSeconds: TTL_SECONDS };
      client.Set(request, metadata, callOptions, (error, response) => {
        resolve(error ? error.message : checkSet(response));
      });
    }
  });
}

function checkGet(response: GetResponse__Output | undefined): string | undefined {
  const ok =
    response?.found === true &&
    !response.degraded &&
    response.value.equals(VALUE_BYTES) &&
    (options.expectSource === undefined || response.source === options.expectSource);
  return ok ? undefined : `unexpected Get response ${JSON.stringify(response)}`;
}

function checkSet(response: SetResponse__Output | undefined): string | undefined {
  return response?.success === true && !response.degraded
    ? undefined
    : `unexpected Set response ${JSON.stringify(response)}`;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<GrpcLoadReport> {
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + CALL_TIMEOUT_MS, (error) => (error ? reject(error) : resolve()));
  });
  const startNs = process.hrtime.bigint();
  const measureFromNs = startNs + BigInt(options.warmupMs) * 1_000_000n;
  const endNs = measureFromNs + BigInt(options.durationMs) * 1_000_000n;
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;

  let cpuFrom = process.cpuUsage();
  let cpuFromNs = startNs;
  const cpuTimer = setTimeout(() => {
    cpuFrom = process.cpuUsage();
    cpuFromNs = process.hrtime.bigint();
  }, options.warmupMs);

  const worker = async (): Promise<void> => {
    while (process.hrtime.bigint() < endNs) {
      const callStartNs = process.hrtime.bigint();
      const problem = await callOnce();
      if (callStartNs < measureFromNs) continue;
      latenciesMs.push(Number(process.hrtime.bigint() - callStartNs) / 1e6);
      if (problem !== undefined) {
        errors += 1;
        firstError ??= problem;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  clearTimeout(cpuTimer);

  const doneNs = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpuFrom);
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    rps: latenciesMs.length / (Number(doneNs - measureFromNs) / 1e9),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    requests: latenciesMs.length,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    cpuPercent: ((cpu.user + cpu.system) / (Number(doneNs - cpuFromNs) / 1e3)) * 100,
  };
}

const report = await main();
client.close();
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
