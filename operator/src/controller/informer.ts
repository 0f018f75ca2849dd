// An informer that keeps going: client-node's ListWatch (a local cache fed by list + watch, which
// re-lists by itself on 410 Gone and reconnects after its inactivity timeout) wrapped so that
//   - it is restarted, with backoff, when it stops on any other error (API server down, 403, ...);
//   - every `resyncPeriodMs` each cached object is handed to `resync` (the watchdog: it repairs
//     what no Kubernetes event announces, such as drift in Redis, and anything a watch missed);
//   - update handlers get the previous version of the object too.
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';

export interface InformerHandlers<T> {
  added?(object: T): void;
  updated?(previous: T | undefined, object: T): void;
  deleted?(object: T): void;
  /** Every cached object, every resync period. */
  resync?(object: T): void;
}

export interface InformerLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics: `cachenamespaces`, `secrets`, ... */
  name: string;
  kubeConfig: KubeConfig;
  /** The collection's URL path, e.g. `/api/v1/secrets`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** @default 300_000 (5 min) */
  resyncPeriodMs?: number | undefined;
  /** A watch that delivers nothing for this long is dropped and made again. @default 60_000 */
  watchTimeoutMs?: number | undefined;
  /** Restart backoff: doubles from `initial` to `max` while the informer keeps failing. */
  restartBackoff?: { initialMs: number; maxMs: number } | undefined;
  log: InformerLogger;
  /** Called on each error that stopped the informer (for metrics). */
  onError?: ((error: unknown) => void) | undefined;
}

export class Informer<T extends KubernetesObject> {
  readonly #options: InformerOptions<T>;
  readonly #listWatch: ListWatch<T>;
  readonly #handlers: Array<InformerHandlers<T>> = [];
  readonly #previous = new Map<string, T>();
  #synced = false;
  #syncedWaiters: Array<() => void> = [];
  #failures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    const watch = new Watch(options.kubeConfig);
    // client-node's inactivity timeout (30 s by default; a TypeScript-private field of Watch).
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.watchTimeoutMs ?? 60_000;
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      this.#failures = 0;
      this.#markSynced();
      return result;
    };
    this.#listWatch = new ListWatch<T>(
      options.path,
      watch,
      list,
      false,
      options.labelSelector,
      options.fieldSelector,
    );
    this.#listWatch.on('add', (object) => {
      this.#failures = 0;
      this.#previous.set(keyOf(object), object);
      this.#handlers.forEach((handler) => handler.added?.(object));
    });
    this.#listWatch.on('update', (object) => {
      this.#failures = 0;
      const key = keyOf(object);
      const previous = this.#previous.get(key);
      this.#previous.set(key, object);
      this.#handlers.forEach((handler) => handler.updated?.(previous, object));
    });
    this.#listWatch.on('delete', (object) => {
      this.#previous.delete(keyOf(object));
      this.#handlers.forEach((handler) => handler.deleted?.(object));
    });
    this.#listWatch.on('error', (error) => this.#restartLater(error));
  }

  get name(): string {
    return this.#options.name;
  }

  /** Whether the first list has completed (the cache is usable). */
  get synced(): boolean {
    return this.#synced;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  /** Starts listing and watching; resolves once the cache is filled (retrying until it is). */
  async start(): Promise<void> {
    if (!this.#stopped) return this.waitForSync();
    this.#stopped = false;
    void this.#listWatch.start();
    const period = this.#options.resyncPeriodMs ?? 300_000;
    this.#resyncTimer = setInterval(() => this.resyncNow(), period);
    this.#resyncTimer.unref();
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncedWaiters.push(resolve));
  }

  /** Hands every cached object to the resync handlers now. */
  resyncNow(): void {
    if (!this.#synced || this.#stopped) return;
    for (const object of this.#listWatch.list()) {
      this.#handlers.forEach((handler) => handler.resync?.(object));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#resyncTimer);
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    await this.#listWatch.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#listWatch.list(namespace);
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    const waiters = this.#syncedWaiters;
    this.#syncedWaiters = [];
    waiters.forEach((resolve) => resolve());
  }

  /** The ListWatch stopped on an error: start it again after a backoff (it resumes its cache). */
  #restartLater(error: unknown): void {
    this.#options.onError?.(error);
    if (this.#stopped || this.#restartTimer !== undefined) return;
    const { initialMs, maxMs } = this.#options.restartBackoff ?? { initialMs: 500, maxMs: 30_000 };
    const delay = Math.min(initialMs * 2 ** this.#failures, maxMs);
    this.#failures += 1;
    this.#options.log.warn(
      { informer: this.#options.name, error: describe(error), retryInMs: delay },
      'informer stopped on an error; restarting',
    );
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopped) void this.#listWatch.start();
    }, delay);
    this.#restartTimer.unref();
  }
}

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** One line (client-node errors carry the whole response). */
function describe(error: unknown): string {
  const coded = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  const code = coded.statusCode ?? coded.code;
  const message = typeof coded.message === 'string' ? (coded.message.split('\n')[0] ?? '') : String(error);
  return typeof code === 'number' || typeof code === 'string' ? `${code}: ${message}` : message;
}
