// The operator, wired from its configuration: Redis admin connections, informers, the controller,
// leader election, Events, metrics and the ops HTTP server. main.ts runs it as a process; the
// integration tests and the benchmark run it in-process too.
import { EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import type { OperatorConfig } from './config.ts';
import { ConfigPublisher } from './controller/config-publisher.ts';
import { Controller } from './controller/controller.ts';
import { CredentialsMirror } from './controller/credentials-mirror.ts';
import { KubeEventRecorder } from './controller/events.ts';
import { KubeClusterApi, createInformers } from './controller/kube-cluster-api.ts';
import { OwnWrites } from './controller/own-writes.ts';
import { reconcile } from './controller/reconcile.ts';
import { createOpsServer, listen } from './http/ops-server.ts';
import { KubeLeaseApi } from './leader/kube-lease-api.ts';
import { LeaseElection } from './leader/lease-election.ts';
import type { Logger } from './observability/logger.ts';
import { OperatorMetrics } from './observability/metrics.ts';
import { withConnectionReuse } from './kube/connection-reuse.ts';
import { IoredisAcl } from './redis/acl-admin.ts';

/** The reportingController of the operator's Events. */
export const CONTROLLER_NAME = 'cacheplane.dev/operator';

export interface RunningOperator {
  readonly identity: string;
  readonly httpPort: number;
  readonly metrics: OperatorMetrics;
  readonly controller: Controller;
  readonly election: LeaseElection;
  /** Stops taking keys, lets running passes finish, releases the Lease, closes everything. */
  stop(): Promise<void>;
}

/**
 * Starts serving /healthz, /readyz and /metrics at once; fills the caches and campaigns for
 * leadership in the background (the caches retry until the API server answers).
 */
export async function startOperator(config: OperatorConfig, log: Logger): Promise<RunningOperator> {
  const metrics = new OperatorMetrics();
  const kubeConfig = withConnectionReuse(new KubeConfig());
  if (config.kubeconfig !== undefined) kubeConfig.loadFromFile(config.kubeconfig);
  else kubeConfig.loadFromCluster();

  const redis = new IoredisAcl({
    mode: config.settings.redis.mode,
    addresses: config.redis.addresses,
    username: config.redis.username,
    password: config.redis.password,
    tls: config.redis.tls,
    connectTimeoutMs: config.redis.timeoutMs,
    commandTimeoutMs: config.redis.timeoutMs,
    managedUserPrefix: `${config.settings.aclUserPrefix}.`,
  });
  const caches = createInformers(kubeConfig, {
    dataPlaneConfig: config.settings.dataPlaneConfig,
    resyncPeriodMs: config.resyncPeriodMs,
    watchTimeoutMs: config.watchTimeoutMs,
    log,
    onError: (informer) => metrics.informerError(informer),
  });
  const ownWrites = new OwnWrites();
  const cluster = new KubeClusterApi(kubeConfig, caches, config.settings.dataPlaneConfig, ownWrites);
  const publisher = new ConfigPublisher(cluster);
  const mirror = new CredentialsMirror(cluster, config.settings.dataPlaneCredentials);
  const events = new KubeEventRecorder(kubeConfig.makeApiClient(EventsV1Api), {
    controller: CONTROLLER_NAME,
    instance: config.identity,
    log,
  });
  const deps = { cluster, redis, config: publisher, mirror, events, settings: config.settings };
  const controller = new Controller({
    caches,
    ownWrites,
    publisher,
    mirror,
    reconcile: (key) => reconcile(key, deps),
    workers: config.workers,
    backoffBaseMs: config.backoff.baseMs,
    backoffMaxMs: config.backoff.maxMs,
    metrics,
    log,
  });
  const election = new LeaseElection({
    api: new KubeLeaseApi(kubeConfig, config.lease.namespace, config.lease.name),
    identity: config.identity,
    leaseDurationMs: config.lease.durationMs,
    renewDeadlineMs: config.lease.renewDeadlineMs,
    retryPeriodMs: config.lease.retryPeriodMs,
    onStartedLeading: () => {
      metrics.leader(true);
      controller.startWorkers();
    },
    onStoppedLeading: async () => {
      metrics.leader(false);
      await controller.stopWorkers();
    },
    log,
  });

  const server = createOpsServer({ ready: () => controller.synced, metrics: () => metrics.render() });
  const httpPort = await listen(server, config.http.host, config.http.port);
  log.info(
    {
      httpPort,
      identity: config.identity,
      lease: `${config.lease.namespace}/${config.lease.name}`,
      redisMode: config.settings.redis.mode,
      workers: config.workers,
      resyncPeriodMs: config.resyncPeriodMs,
    },
    'operator started',
  );

  let stopped = false;
  const campaign = (async () => {
    await controller.startInformers();
    if (stopped) return;
    log.info(
      { cacheNamespaces: caches.cacheNamespaces.list().length },
      'caches synced; campaigning for leadership',
    );
    election.start();
  })();
  campaign.catch((error: unknown) => log.error({ err: error }, 'could not start'));

  const step = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      log.warn({ err: error }, `shutdown: ${what} failed`);
    }
  };
  return {
    identity: config.identity,
    httpPort,
    metrics,
    controller,
    election,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      // Workers stop (running passes finish) before the Lease is released: no overlap with a successor.
      await step('leader election', () => election.stop());
      await step('controller', () => controller.stop());
      await step('redis', () => redis.close());
      await step('http server', () => new Promise((resolve) => server.close(resolve)));
    },
  };
}
