// The CacheNamespace controller, wired: informers feed keys into the work queue (enqueue.ts), and
// while this replica leads, workers take keys from it and reconcile them. Informers run on every
// replica (a standby has warm caches and a full queue the moment it takes over).
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { ConfigPublisher } from './config-publisher.ts';
import type { CredentialsMirror } from './credentials-mirror.ts';
import { cacheNamespaceHandlers, configMapHandlers, secretHandlers } from './enqueue.ts';
import type { KubeCaches } from './kube-cluster-api.ts';
import type { OwnWrites } from './own-writes.ts';
import { objectKey } from './cluster-api.ts';
import { WorkQueue, type Outcome, type ReconcileResult } from './work-queue.ts';

export interface ControllerMetrics {
  reconciled(outcome: Outcome, seconds: number): void;
  queueDepth(depth: number): void;
}

export interface ControllerLogger {
  debug(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface ControllerOptions {
  caches: KubeCaches;
  ownWrites: OwnWrites;
  publisher: ConfigPublisher;
  mirror: CredentialsMirror;
  reconcile: (key: string) => Promise<ReconcileResult>;
  /** @default 2 */
  workers?: number | undefined;
  /** @default 100 */
  backoffBaseMs?: number | undefined;
  /** @default 60_000 */
  backoffMaxMs?: number | undefined;
  metrics: ControllerMetrics;
  log: ControllerLogger;
}

export class Controller {
  readonly queue: WorkQueue;
  readonly #caches: KubeCaches;
  readonly #reconcile: (key: string) => Promise<ReconcileResult>;
  readonly #metrics: ControllerMetrics;
  readonly #log: ControllerLogger;

  constructor(options: ControllerOptions) {
    this.#caches = options.caches;
    this.#reconcile = options.reconcile;
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.queue = new WorkQueue({
      concurrency: options.workers ?? 2,
      baseDelayMs: options.backoffBaseMs,
      maxDelayMs: options.backoffMaxMs,
      onDepth: (depth) => options.metrics.queueDepth(depth),
      onOutcome: (key, outcome, error) => {
        if (outcome === 'error') {
          this.#log.warn(
            {
              key,
              error: error instanceof Error ? error.message : String(error),
              failures: this.queue.failures(key),
            },
            'reconcile failed; retrying with backoff',
          );
        }
      },
    });
    const all = () => this.#caches.cacheNamespaces.list();
    const { cacheNamespaces, secrets, configMap } = options.caches;
    cacheNamespaces.addHandlers(cacheNamespaceHandlers(this.queue, all, options.ownWrites));
    const { mirror } = options;
    secrets.addHandlers(
      secretHandlers(this.queue, options.ownWrites, {
        namespace: mirror.namespace,
        name: mirror.name,
        all,
        observed: (resourceVersion) => mirror.observed(resourceVersion),
      }),
    );
    configMap.addHandlers(
      configMapHandlers(this.queue, all, options.ownWrites, (object: V1ConfigMap | undefined) =>
        options.publisher.observed(
          object === undefined
            ? undefined
            : { resourceVersion: object.metadata?.resourceVersion ?? '', data: { ...object.data } },
        ),
      ),
    );
  }

  /** Starts the informers; resolves once every cache is filled. */
  async startInformers(): Promise<void> {
    const { cacheNamespaces, secrets, configMap } = this.#caches;
    // Secrets and the ConfigMap first: the first passes read them.
    await Promise.all([secrets.start(), configMap.start()]);
    await cacheNamespaces.start();
  }

  get synced(): boolean {
    const { cacheNamespaces, secrets, configMap } = this.#caches;
    return cacheNamespaces.synced && secrets.synced && configMap.synced;
  }

  /** Leadership acquired: reconcile everything once, then whatever changes. */
  startWorkers(): void {
    for (const object of this.#caches.cacheNamespaces.list()) {
      this.queue.add(objectKey(object.metadata.namespace, object.metadata.name));
    }
    this.queue.start((key) => this.#handle(key));
    this.#log.info({ queued: this.queue.depth }, 'workers started');
  }

  /** Leadership lost or shutting down: no new key is taken; resolves when the running ones end. */
  async stopWorkers(): Promise<void> {
    if (!this.queue.running) return;
    await this.queue.stop();
    this.#log.info({}, 'workers stopped');
  }

  async stop(): Promise<void> {
    await this.queue.shutDown();
    const { cacheNamespaces, secrets, configMap } = this.#caches;
    await Promise.all([cacheNamespaces.stop(), secrets.stop(), configMap.stop()]);
  }

  async #handle(key: string): Promise<ReconcileResult> {
    const started = performance.now();
    let outcome: Outcome = 'error';
    try {
      const result = await this.#reconcile(key);
      outcome = result.result;
      this.#log.debug(
        { key, result: result.result, after: result.result === 'requeue' ? result.after : undefined },
        'reconciled',
      );
      return result;
    } finally {
      this.#metrics.reconciled(outcome, (performance.now() - started) / 1000);
    }
  }
}
