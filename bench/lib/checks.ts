// Correctness checks around the load runs. The load tools only see status codes, so:
// - before the first and after the last round, a sample of each run's calls is replayed with our
//   own clients and every answer is compared with what the key holds (value bytes, source);
// - around every run against a data plane with metrics, /metrics tells which path served the reads
//   (local cache, Redis, miss), which must be the path the run is meant to measure;
// - vegeta (open loop, REST) checks every single response body (see run.ts).
import { credentials, Metadata } from '@grpc/grpc-js';
import type { CacheServiceClient } from '../../dataplane/src/generated/cache/v1/CacheService.ts';
import { loadCacheProto } from '../../dataplane/src/grpc/proto.ts';
import { NAMESPACE, batchSequence, keySequence, valueFor } from './dataset.ts';
import type { Workload } from './scenarios.ts';
import type { RunningServer } from './servers.ts';

const SAMPLE = 20;
const DEADLINE_MS = 5000;

/** What a data plane counted: reads by where they were answered from. */
export interface ReadCounters {
  local: number;
  redis: number;
  miss: number;
}

export async function readCounters(server: RunningServer): Promise<ReadCounters | undefined> {
  if (!server.info.metrics || server.httpUrl === undefined) return undefined;
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    local: value(
      new RegExp(`^cacheplane_cache_hits_total\\{namespace="${NAMESPACE}",source="local"\\} (\\S+)`, 'm'),
    ),
    redis: value(
      new RegExp(`^cacheplane_cache_hits_total\\{namespace="${NAMESPACE}",source="redis"\\} (\\S+)`, 'm'),
    ),
    miss: value(new RegExp(`^cacheplane_cache_misses_total\\{namespace="${NAMESPACE}"\\} (\\S+)`, 'm')),
  };
}

/** The share of the reads between two counter readings that took the path the workload means. */
export function pathShare(
  before: ReadCounters,
  after: ReadCounters,
  server: RunningServer,
  w: Workload,
): { share: number; reads: number; expected: string } {
  const delta = {
    local: after.local - before.local,
    redis: after.redis - before.redis,
    miss: after.miss - before.miss,
  };
  const reads = delta.local + delta.redis + delta.miss;
  const expected = w.keySet === 'miss' ? 'miss' : (server.info.source ?? 'redis');
  return { share: reads === 0 ? 0 : delta[expected] / reads, reads, expected };
}

/**
 * Replays a sample of the workload's calls against a server and checks every answer; returns the
 * problems found (empty when all is well). Baselines answer constants: only their status is checked.
 */
export async function verifySample(server: RunningServer, w: Workload, token: string): Promise<string[]> {
  const choice = { keySet: w.keySet, distribution: w.distribution, valueSize: w.valueSize };
  const dataplane = server.info.kind === 'dataplane';
  const expectedSource = server.info.source;
  const problems: string[] = [];
  const checkValue = (
    key: string,
    found: boolean,
    value: Buffer | undefined,
    source: string | undefined,
  ): void => {
    if (w.keySet === 'miss') {
      if (found) problems.push(`${key}: found, expected a miss`);
      return;
    }
    if (!found) return void problems.push(`${key}: not found`);
    if (!dataplane) return;
    if (value === undefined || !value.equals(valueFor(key, w.valueSize)))
      problems.push(`${key}: wrong value`);
    if (source !== undefined && source !== expectedSource) {
      problems.push(`${key}: answered from ${source}, expected ${expectedSource}`);
    }
  };

  if (w.transport === 'rest') {
    const base = server.httpUrl as string;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    if (w.op === 'batch') {
      for (const keys of batchSequence(choice, w.batchSize ?? 1).slice(0, 3)) {
        const response = await fetch(`${base}/api/v1/cache/${NAMESPACE}/batch/get`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ keys }),
        });
        const body = (await response.json()) as { values?: Record<string, { value: string }> };
        if (response.status !== 200) problems.push(`batch get: status ${response.status}`);
        for (const key of keys) {
          const entry = body.values?.[key];
          checkValue(
            key,
            entry !== undefined,
            entry === undefined ? undefined : Buffer.from(entry.value, 'utf8'),
            undefined,
          );
        }
      }
      return problems;
    }
    for (const key of keySequence(choice).slice(0, SAMPLE)) {
      const response = await fetch(`${base}/api/v1/cache/${NAMESPACE}/${encodeURIComponent(key)}`, {
        headers,
      });
      const body = (await response.json()) as { value?: string; source?: string };
      const found = response.status === 200;
      if (!found && response.status !== 404) problems.push(`${key}: status ${response.status}`);
      checkValue(
        key,
        found,
        body.value === undefined ? undefined : Buffer.from(body.value, 'utf8'),
        body.source,
      );
    }
    return problems;
  }

  const { CacheService } = loadCacheProto().grpcType.cache.v1;
  const client = new CacheService(server.grpcAddress as string, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  try {
    if (w.op === 'batch') {
      if (!dataplane) return problems; // the bare echo has no BatchGet
      for (const keys of batchSequence(choice, w.batchSize ?? 1).slice(0, 3)) {
        const values = await grpcBatchGet(client, metadata, keys);
        for (const key of keys) checkValue(key, values[key] !== undefined, values[key], undefined);
      }
      return problems;
    }
    for (const key of keySequence(choice).slice(0, SAMPLE)) {
      const answer = await grpcGet(client, metadata, key);
      const source =
        answer.source === 'CACHE_SOURCE_LOCAL'
          ? 'local'
          : answer.source === 'CACHE_SOURCE_REDIS'
            ? 'redis'
            : undefined;
      checkValue(key, answer.found, answer.value, source);
    }
    return problems;
  } catch (error) {
    return [...problems, `gRPC: ${(error as Error).message}`];
  } finally {
    client.close();
  }
}

function grpcGet(
  client: CacheServiceClient,
  metadata: Metadata,
  key: string,
): Promise<{ found: boolean; value: Buffer; source: string }> {
  return new Promise((resolve, reject) => {
    client.Get(
      { namespace: NAMESPACE, key },
      metadata,
      { deadline: Date.now() + DEADLINE_MS },
      (error, response) => {
        if (error !== null || response === undefined) reject(error ?? new Error('no response'));
        else resolve({ found: response.found, value: response.value, source: response.source });
      },
    );
  });
}

function grpcBatchGet(
  client: CacheServiceClient,
  metadata: Metadata,
  keys: string[],
): Promise<Record<string, Buffer>> {
  return new Promise((resolve, reject) => {
    client.BatchGet(
      { namespace: NAMESPACE, keys },
      metadata,
      { deadline: Date.now() + DEADLINE_MS },
      (error, response) => {
        if (error !== null || response === undefined) reject(error ?? new Error('no response'));
        else resolve(response.values);
      },
    );
  });
}

/** Checks one vegeta response of a REST workload against what the key holds. */
export function checkRestResponse(
  server: RunningServer,
  w: Workload,
  result: { method: string; url: string; code: number; body: Buffer },
): string | undefined {
  if (result.method !== 'GET')
    return result.code === 200 ? undefined : `${result.method}: status ${result.code}`;
  const expectedCode = w.keySet === 'miss' ? 404 : 200;
  if (result.code !== expectedCode)
    return `GET ${result.url}: status ${result.code}, expected ${expectedCode}`;
  if (w.keySet === 'miss' || server.info.kind !== 'dataplane') return undefined;
  const key = decodeURIComponent(result.url.slice(result.url.lastIndexOf('/') + 1));
  const body = JSON.parse(result.body.toString('utf8')) as { value?: string; source?: string };
  if (body.value !== valueFor(key, w.valueSize).toString('latin1')) return `GET ${key}: wrong value`;
  if (body.source !== server.info.source) return `GET ${key}: answered from ${body.source}`;
  return undefined;
}

/** Writes every key of `valueSizes` through a data plane (REST batch set), `chunk` keys a call. */
export async function preload(
  server: RunningServer,
  token: string,
  keys: string[],
  valueSize: number,
): Promise<void> {
  const chunk = Math.max(1, Math.min(500, Math.floor(4_000_000 / (valueSize + 64))));
  for (let start = 0; start < keys.length; start += chunk) {
    const entries = Object.fromEntries(
      keys
        .slice(start, start + chunk)
        .map((key) => [key, { value: valueFor(key, valueSize).toString('latin1') }]),
    );
    const response = await fetch(`${server.httpUrl}/api/v1/cache/${NAMESPACE}/batch/set`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ entries, ttlSeconds: 3600 }),
    });
    const body = (await response.json()) as { success?: boolean; degraded?: boolean };
    if (response.status !== 200 || body.success !== true || body.degraded !== false) {
      throw new Error(`preload through ${server.info.id}: ${response.status} ${JSON.stringify(body)}`);
    }
  }
}
