// Everything the benchmark measures, started once at the beginning as child processes on free
// loopback ports, idle while others are measured: Redis (standalone and Cluster, through the test
// harness), data planes in several configurations, and the baseline servers.
import { resolve } from 'node:path';
import { signToken } from '../../dataplane/src/auth/jwt-verifier.ts';
import {
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../../dataplane/test/support/redis-harness.ts';
import { freePort, start, stop, waitUntil, type Spawned } from '../processes.ts';
import { NAMESPACE } from './dataset.ts';

export const SECRET = 'bench-secret-that-is-at-least-32-characters-long';
export const TOKEN = signToken(SECRET, { subject: 'bench', namespaces: [NAMESPACE], ttlSeconds: 24 * 3600 });

const BENCH_DIR = resolve(import.meta.dirname, '..');
const ROOT = resolve(BENCH_DIR, '..');
const START_TIMEOUT_MS = 30_000;

/** Every server a run can target. */
export type TargetId =
  | 'bare-grpc'
  | 'bare-koa'
  | 'bare-http'
  | 'frontend'
  | 'dp-redis'
  | 'dp-nometrics'
  | 'dp-cluster'
  | 'dp-near'
  | 'dp-embedded'
  | 'redis'
  | 'redis-cluster';

/** A target, or the same data-plane configuration started from another source tree (`--before`). */
export type TargetRef = TargetId | `${TargetId}~before`;

export interface TargetInfo {
  id: TargetRef;
  description: string;
  /** Data planes answer from a store; baselines answer constants. */
  kind: 'dataplane' | 'baseline' | 'redis';
  /** Where a hit is answered from (data planes only). */
  source?: 'local' | 'redis';
  /** Whether /metrics counts hits and misses (used to check that the run took the expected path). */
  metrics: boolean;
  /** Which Redis it uses, if any. */
  redis?: 'standalone' | 'cluster';
}

export const TARGETS: Record<TargetId, TargetInfo> = {
  'bare-grpc': {
    id: 'bare-grpc',
    kind: 'baseline',
    metrics: false,
    description: 'bare grpc-js echo, same proto',
  },
  'bare-koa': {
    id: 'bare-koa',
    kind: 'baseline',
    metrics: false,
    description: 'minimal Koa + @koa/router, same route, no middleware',
  },
  'bare-http': {
    id: 'bare-http',
    kind: 'baseline',
    metrics: false,
    description: 'bare node:http, constant JSON',
  },
  frontend: {
    id: 'frontend',
    kind: 'baseline',
    metrics: false,
    description:
      "the data plane's REST app and gRPC server (same router, middleware, auth, metrics) over a constant cache",
  },
  'dp-redis': {
    id: 'dp-redis',
    kind: 'dataplane',
    source: 'redis',
    metrics: true,
    redis: 'standalone',
    description: 'data plane, Redis standalone, local cache off',
  },
  'dp-nometrics': {
    id: 'dp-nometrics',
    kind: 'dataplane',
    source: 'redis',
    metrics: false,
    redis: 'standalone',
    description: 'data plane, Redis standalone, local cache off, METRICS_ENABLED=false',
  },
  'dp-cluster': {
    id: 'dp-cluster',
    kind: 'dataplane',
    source: 'redis',
    metrics: true,
    redis: 'cluster',
    description: 'data plane, Redis Cluster (3 primaries), local cache off',
  },
  'dp-near': {
    id: 'dp-near',
    kind: 'dataplane',
    source: 'local',
    metrics: true,
    redis: 'standalone',
    description: 'data plane, Redis standalone, local cache on (near-cache hits)',
  },
  'dp-embedded': {
    id: 'dp-embedded',
    kind: 'dataplane',
    source: 'local',
    metrics: true,
    description: 'data plane, embedded default (no Redis, local cache only)',
  },
  redis: { id: 'redis', kind: 'redis', metrics: false, redis: 'standalone', description: 'Redis standalone' },
  'redis-cluster': {
    id: 'redis-cluster',
    kind: 'redis',
    metrics: false,
    redis: 'cluster',
    description: 'Redis Cluster, 3 primaries + 3 replicas',
  },
};

/** The description of a target; `X~before` is X started from the `--before` source tree. */
export function infoOf(ref: TargetRef): TargetInfo {
  if (!ref.endsWith('~before')) return TARGETS[ref as TargetId];
  const base = TARGETS[ref.slice(0, -'~before'.length) as TargetId];
  return { ...base, id: ref, description: `${base.description} — before the change (--before)` };
}

export interface RunningServer {
  info: TargetInfo;
  process?: Spawned;
  httpUrl?: string;
  grpcAddress?: string;
  /** The processes whose CPU is the server's. */
  pids: number[];
}

export interface Servers {
  get(id: TargetRef): RunningServer;
  has(id: TargetRef): boolean;
  standalone: RedisServerHandle | undefined;
  cluster: RedisClusterHandle | undefined;
  /** Redis pids per flavour, for Redis CPU per operation. */
  redisPids(which: 'standalone' | 'cluster'): number[];
  /** Stops every server (data planes with SIGTERM, so that --cpu-prof writes its profile). */
  stopAll(): Promise<void>;
}

export interface StartOptions {
  targets: readonly TargetRef[];
  /** main.ts of another data-plane source tree, for the `~before` targets. */
  beforeMain?: string | undefined;
  /** Write a V8 CPU profile of each data plane into this directory. */
  profileDir: string | undefined;
  log: (line: string) => void;
}

export async function startServers(options: StartOptions): Promise<Servers> {
  const wanted = new Set(options.targets);
  const needs = (flavour: 'standalone' | 'cluster'): boolean =>
    [...wanted].some((id) => infoOf(id).redis === flavour);
  const running = new Map<TargetRef, RunningServer>();
  let standalone: RedisServerHandle | undefined;
  let cluster: RedisClusterHandle | undefined;
  const servers: Servers = {
    get: (id) => {
      const server = running.get(id);
      if (server === undefined) throw new Error(`server ${id} was not started`);
      return server;
    },
    has: (id) => running.has(id),
    get standalone() {
      return standalone;
    },
    get cluster() {
      return cluster;
    },
    redisPids: (which) =>
      which === 'standalone'
        ? standalone === undefined
          ? []
          : [standalone.pid]
        : (cluster?.nodes.map((node) => node.pid) ?? []),
    stopAll: async () => {
      await Promise.all(
        [...running.values()].map((server) =>
          server.process === undefined ? Promise.resolve() : stop(server.process),
        ),
      );
      await Promise.all([standalone?.stop(), cluster?.stop()]);
    },
  };

  try {
    const [standaloneHandle, clusterHandle] = await Promise.all([
      needs('standalone') ? startRedisStandalone() : undefined,
      needs('cluster') ? startRedisCluster() : undefined,
    ]);
    standalone = standaloneHandle;
    cluster = clusterHandle;
    if (standalone !== undefined) {
      running.set('redis', { info: TARGETS.redis, pids: [standalone.pid] });
      options.log(`Redis standalone on ${standalone.address}`);
    }
    if (cluster !== undefined) {
      running.set('redis-cluster', { info: TARGETS['redis-cluster'], pids: servers.redisPids('cluster') });
      options.log(`Redis Cluster on ${cluster.addresses.join(', ')}`);
    }
    const starting = [...wanted]
      .filter((id) => infoOf(id).kind !== 'redis')
      .map(async (id) => {
        const main = id.endsWith('~before') ? options.beforeMain : undefined;
        if (id.endsWith('~before') && main === undefined) throw new Error(`${id} needs --before`);
        running.set(id, await startTarget(infoOf(id), { standalone, cluster }, options.profileDir, main));
      });
    await Promise.all(starting);
    return servers;
  } catch (error) {
    await servers.stopAll();
    throw error;
  }
}

async function startTarget(
  info: TargetInfo,
  redis: { standalone: RedisServerHandle | undefined; cluster: RedisClusterHandle | undefined },
  profileDir: string | undefined,
  dataPlaneMain = resolve(ROOT, 'dataplane/src/main.ts'),
): Promise<RunningServer> {
  const node = (script: string, env: Record<string, string>, profile: boolean): Spawned => {
    const profiling =
      profile && profileDir !== undefined
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${profileDir}`,
            `--cpu-prof-name=${info.id.replace('~', '-')}.cpuprofile`,
          ]
        : [];
    return start(process.execPath, [...profiling, script], env);
  };
  const base = info.id.replace(/~before$/, '') as TargetId;
  switch (base) {
    case 'bare-grpc':
    case 'bare-koa':
    case 'bare-http': {
      const file = `baseline-${base.slice('bare-'.length)}-server.ts`;
      const child = node(resolve(BENCH_DIR, file), {}, true);
      const port = (): number => Number.parseInt(child.stdout(), 10);
      await waitUntil(child, `${file} to print its port`, () => port() > 0, START_TIMEOUT_MS);
      const address = `127.0.0.1:${port()}`;
      return {
        info,
        process: child,
        pids: [child.child.pid ?? 0],
        ...(base === 'bare-grpc' ? { grpcAddress: address } : { httpUrl: `http://${address}` }),
      };
    }
    case 'frontend': {
      const child = node(resolve(BENCH_DIR, 'baseline-frontend-server.ts'), { BENCH_SECRET: SECRET }, true);
      const ports = (): { http: number; grpc: number } | undefined => {
        const line = child.stdout().trim();
        return line === '' ? undefined : (JSON.parse(line) as { http: number; grpc: number });
      };
      await waitUntil(
        child,
        'the front-end baseline to print its ports',
        () => ports() !== undefined,
        START_TIMEOUT_MS,
      );
      const { http, grpc } = ports() as { http: number; grpc: number };
      return {
        info,
        process: child,
        pids: [child.child.pid ?? 0],
        httpUrl: `http://127.0.0.1:${http}`,
        grpcAddress: `127.0.0.1:${grpc}`,
      };
    }
    case 'dp-redis':
    case 'dp-nometrics':
    case 'dp-cluster':
    case 'dp-near':
    case 'dp-embedded': {
      const env: Record<string, string> = {};
      if (info.redis === 'standalone') env.REDIS_ADDRESSES = requireValue(redis.standalone).address;
      if (info.redis === 'cluster') {
        env.REDIS_ADDRESSES = requireValue(redis.cluster).addresses.join(',');
        env.REDIS_CLUSTER_MODE = 'true';
      }
      if (info.source === 'redis') env.CACHE_LOCAL_CACHE_ENABLED = 'false';
      // Room for every key of every value size, so that near-cache hits stay hits.
      else env.CACHE_LOCAL_CACHE_SIZE = '100000';
      if (!info.metrics) env.METRICS_ENABLED = 'false';
      return startDataPlane(info, env, node, dataPlaneMain);
    }
    case 'redis':
    case 'redis-cluster':
      throw new Error('Redis is started by the harness');
  }
}

/**
 * Starts a data plane on two ports that were free a moment ago. Other test runs on the machine may
 * take one of them meanwhile: then the data plane exits with EADDRINUSE and is started again on
 * others.
 */
async function startDataPlane(
  info: TargetInfo,
  env: Record<string, string>,
  node: (script: string, env: Record<string, string>, profile: boolean) => Spawned,
  main: string,
): Promise<RunningServer> {
  for (let attempt = 1; ; attempt += 1) {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    if (httpPort === grpcPort) continue;
    const child = node(
      main,
      {
        SERVER_HOST: '127.0.0.1',
        SERVER_HTTP_PORT: String(httpPort),
        SERVER_GRPC_PORT: String(grpcPort),
        SERVER_GRACEFUL_TIMEOUT: '2s',
        AUTH_JWT_SECRET: SECRET,
        LOG_LEVEL: 'warn',
        ...env,
      },
      true,
    );
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const ready = async (): Promise<boolean> => (await fetch(`${httpUrl}/ready`)).status === 200;
    try {
      await waitUntil(child, `${info.id} to be ready`, ready, START_TIMEOUT_MS);
      // A /ready answer from someone else's server on a taken port: ours would have exited by now.
      await new Promise((done) => setTimeout(done, 200));
      if (child.child.exitCode !== null) throw new Error(`${info.id} exited:\n${child.stderrTail()}`);
    } catch (error) {
      await stop(child);
      if (attempt < 4 && /EADDRINUSE/.test(child.stderrTail())) continue;
      throw error;
    }
    return {
      info,
      process: child,
      pids: [child.child.pid ?? 0],
      httpUrl,
      grpcAddress: `127.0.0.1:${grpcPort}`,
    };
  }
}

function requireValue<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('a Redis server the data plane needs was not started');
  return value;
}
