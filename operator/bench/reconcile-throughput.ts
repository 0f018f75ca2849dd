// How fast the operator turns CacheNamespaces into Ready ones, against a real kube-apiserver + etcd
// and a real standalone Redis, with the operator as its own process (as in a pod, with the
// ServiceAccount of operator/rbac/):
//   1. create-to-Ready latency: 10 objects created one after the other, each waited for (median);
//   2. throughput: 200 objects created at once, time until every one is Ready.
// Readiness is observed with a watch (Ready=True at the object's generation), so the figures
// include the operator's informer delay, the reconcile and the status write reaching the watcher.
//
//   node operator/bench/reconcile-throughput.ts [--latency-runs 10] [--burst 200] [--workers 4]
//        [--operator-node-options='--cpu-prof --cpu-prof-dir=/tmp/operator-profile']
import { parseArgs } from 'node:util';
import { Watch } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../src/api/types.ts';
import type { CacheNamespaceObject } from '../src/controller/cluster-api.ts';
import { startOperatorProcess, type OperatorProcess } from '../test/support/operator-process.ts';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_REDIS_USER,
  SPEC,
  createCacheNamespace,
  isReady,
  startWorld,
  type World,
} from '../test/support/operator-world.ts';

const { values: options } = parseArgs({
  options: {
    'latency-runs': { type: 'string', default: '10' },
    burst: { type: 'string', default: '200' },
    workers: { type: 'string', default: '4' },
    /** e.g. `--cpu-prof --cpu-prof-dir=/tmp/operator-profile`, for the operator process. */
    'operator-node-options': { type: 'string', default: '' },
  },
});
const LATENCY_RUNS = Number(options['latency-runs']);
const BURST = Number(options.burst);
const WORKERS = options.workers;

/**
 * Resolves each `ready(name)` when the watch first sees that object Ready. A watch that ends (the
 * client's inactivity timeout, the server closing it) is made again after a fresh list.
 */
class ReadyWatcher {
  readonly #readyAt = new Map<string, number>();
  readonly #waiters = new Map<string, (at: number) => void>();
  #abort: AbortController | undefined;
  #stopped = false;

  async start(world: World): Promise<void> {
    const list = (await world.kube.custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
    })) as { items: CacheNamespaceObject[]; metadata?: { resourceVersion?: string } };
    list.items.forEach((object) => this.#seen(object));
    const watch = new Watch(world.kube.kubeConfig);
    this.#abort = await watch.watch(
      `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      { resourceVersion: list.metadata?.resourceVersion },
      (_type, object: CacheNamespaceObject) => this.#seen(object),
      () => {
        if (!this.#stopped) setTimeout(() => void this.start(world), 100);
      },
    );
  }

  ready(key: string): Promise<number> {
    const at = this.#readyAt.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.#waiters.set(key, resolve));
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
  }

  #seen(object: CacheNamespaceObject): void {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    if (!isReady(object) || this.#readyAt.has(key)) return;
    const at = performance.now();
    this.#readyAt.set(key, at);
    this.#waiters.get(key)?.(at);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function reconcileCounts(operator: OperatorProcess): Promise<string> {
  const text = await operator.metrics();
  return [...text.matchAll(/^cacheplane_operator_reconcile_total\{result="(\w+)"\} (\d+)$/gm)]
    .map(([, result, count]) => `${result}=${count}`)
    .join(' ');
}

async function main(): Promise<void> {
  const started = performance.now();
  const world = await startWorld('standalone');
  let operator: OperatorProcess | undefined;
  const watcher = new ReadyWatcher();
  try {
    operator = await startOperatorProcess('bench-operator', {
      KUBECONFIG: world.operatorKubeconfig,
      OPERATOR_REDIS_ADDRESSES: world.redisNodes.join(','),
      OPERATOR_REDIS_USERNAME: OPERATOR_REDIS_USER,
      OPERATOR_REDIS_PASSWORD: world.operatorRedisPassword,
      OPERATOR_LEASE_NAMESPACE: OPERATOR_NAMESPACE,
      OPERATOR_WORKERS: WORKERS,
      ...(options['operator-node-options'] === '' ? {} : { NODE_OPTIONS: options['operator-node-options'] }),
      // info: the harness reads the HTTP port from the start-up line.
      LOG_LEVEL: 'info',
    });
    await watcher.start(world);
    // Warm-up: the first object pays for connections (API server, Redis) and leadership.
    await createCacheNamespace(world.kube, 'team-a', 'warm-up', SPEC);
    await watcher.ready('team-a/warm-up');
    console.log(
      `setup (API server, Redis, operator process, first object): ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i += 1) {
      const name = `latency-${i}`;
      const t0 = performance.now();
      await createCacheNamespace(world.kube, 'team-a', name, SPEC);
      latencies.push((await watcher.ready(`team-a/${name}`)) - t0);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `create -> Ready, ${LATENCY_RUNS} objects one at a time: median ${percentile(sorted, 50).toFixed(0)} ms ` +
        `(min ${sorted[0]?.toFixed(0)}, max ${sorted.at(-1)?.toFixed(0)}; each: ${latencies.map((ms) => ms.toFixed(0)).join(', ')})`,
    );

    const before = await reconcileCounts(operator);
    const names = Array.from({ length: BURST }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
    const t0 = performance.now();
    const readyTimes = names.map((name) => watcher.ready(`team-b/${name}`));
    await Promise.all(names.map((name) => createCacheNamespace(world.kube, 'team-b', name, SPEC)));
    const created = performance.now() - t0;
    const times = (await Promise.all(readyTimes)).map((at) => at - t0).sort((a, b) => a - b);
    const total = times.at(-1) as number;
    console.log(
      `${BURST} objects created at once (${WORKERS} workers): all Ready after ${(total / 1000).toFixed(2)} s ` +
        `= ${(BURST / (total / 1000)).toFixed(0)} objects/s; creates took ${(created / 1000).toFixed(2)} s; ` +
        `Ready at p50 ${(percentile(times, 50) / 1000).toFixed(2)} s, p90 ${(percentile(times, 90) / 1000).toFixed(2)} s`,
    );
    console.log(`reconcile passes before the burst: ${before}; after: ${await reconcileCounts(operator)}`);
  } finally {
    watcher.stop();
    await operator?.stop();
    await world.stop();
  }
}

await main();
