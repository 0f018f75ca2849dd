// Keeps one named object current: lists it by name (a field selector, so that RBAC can restrict
// the reader to that name), then watches it from the list's resourceVersion. A watch the server
// ends normally is made again from the last resourceVersion; 410 Gone re-lists at once; any other
// failure (API unreachable, an error status, a stalled watch) drops the watcher's connections (one
// may be dead without anyone knowing) and re-lists after a capped backoff, and the watcher reads
// unhealthy until its watch runs again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.ts';
import { backoffDelay, type BackoffOptions } from './kube-backoff.ts';
import {
  describeKubeError,
  describeStatus,
  httpStatusOf,
  KubeReadError,
  type KubeStatus,
} from './kube-errors.ts';
import { EMPTY_RECORD, recordsEqual, type StringRecord } from './kube-snapshot.ts';
import type { NamedObjectApi, WatchQuery } from './kube-object-api.ts';
import type { WatchedObject } from './kube-watched-kinds.ts';

export interface NamedObjectWatcherOptions {
  /** The watcher's own: it drops its connections. */
  readonly api: NamedObjectApi;
  /** What the api's watches do after that long without data (for the log line). */
  readonly stallTimeoutMs: number;
  /** Bounds each list request. */
  readonly requestTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly logger: Logger;
  /** Called after `data` changed (not for the first list: start() resolving says that). */
  readonly onChange: () => void;
}

type WatchEnd = 'ended' | 'expired';

/** A watch the server closes this soon without a single event counts as a failure (no hot loop). */
const SHORT_WATCH_MS = 1_000;

export class NamedObjectWatcher {
  readonly #options: NamedObjectWatcherOptions;
  /** `ConfigMap cacheplane-system/cacheplane-namespaces`, for logs. */
  readonly #label: string;
  readonly #closing = new AbortController();
  #data: StringRecord = EMPTY_RECORD;
  #resourceVersion: string | undefined;
  #started = false;
  #healthy = false;
  #failures = 0;
  #watchController: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: NamedObjectWatcherOptions) {
    this.#options = options;
    const { kind, namespace, name } = options.api;
    this.#label = `${kind.kind} ${namespace}/${name}`;
  }

  /** The object's data; empty while it does not exist. */
  get data(): StringRecord {
    return this.#data;
  }

  /** Listed, and not failing since. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** The first list: rejects with a KubeReadError when it fails. Then watches in the background. */
  async start(): Promise<void> {
    await this.#list();
    if (this.#closing.signal.aborted) return;
    this.#started = true;
    this.#healthy = true;
    this.#loop = this.#watchLoop();
  }

  /** Stops watching and drops the client's connections. */
  async close(): Promise<void> {
    this.#healthy = false;
    this.#closing.abort();
    this.#watchController?.abort();
    await this.#loop;
    await this.#options.api.dropConnections();
  }

  async #list(): Promise<void> {
    const { api, requestTimeoutMs } = this.#options;
    const { kind, namespace, name } = api;
    const request = new AbortController();
    const abort = (): void => request.abort();
    this.#closing.signal.addEventListener('abort', abort);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort();
    }, requestTimeoutMs);
    let list;
    try {
      list = await api.list(request.signal);
    } catch (error) {
      const reason = timedOut ? `no answer within ${requestTimeoutMs} ms` : describeKubeError(error);
      throw new KubeReadError(
        `cannot read ${kind.kind} "${name}" in namespace "${namespace}": ${reason}`,
        httpStatusOf(error),
        error,
      );
    } finally {
      clearTimeout(timer);
      this.#closing.signal.removeEventListener('abort', abort);
    }
    const object = list.items.find((item) => item.metadata?.name === name);
    this.#resourceVersion = list.metadata?.resourceVersion;
    this.#update(object === undefined ? EMPTY_RECORD : kind.dataOf(object));
  }

  async #watchLoop(): Promise<void> {
    let relist = false;
    while (!this.#closing.signal.aborted) {
      try {
        if (relist) await this.#list();
        relist = false;
        if ((await this.#watchOnce()) === 'expired') {
          this.#options.logger.info(
            { object: this.#label },
            'watch resource version expired (410 Gone); re-listing',
          );
          relist = true;
        }
      } catch (error) {
        if (this.#closing.signal.aborted) return;
        relist = true;
        await this.#pauseAfter(error);
      }
    }
  }

  async #pauseAfter(error: unknown): Promise<void> {
    this.#healthy = false;
    const retryInMs = backoffDelay(this.#failures, this.#options.backoff);
    this.#failures += 1;
    this.#options.logger.warn(
      { object: this.#label, reason: describeKubeError(error), failures: this.#failures, retryInMs },
      'Kubernetes watch lost; re-listing after a pause',
    );
    await this.#options.api.dropConnections();
    await sleep(retryInMs, undefined, { signal: this.#closing.signal }).catch(() => undefined);
  }

  /** One watch request, until it ends: resolves when the server ended it or on close. */
  #watchOnce(): Promise<WatchEnd> {
    const { api, stallTimeoutMs } = this.#options;
    const query: WatchQuery = {
      resourceVersion: this.#resourceVersion,
      // The server ends the watch after 5 to 10 minutes, as client-go's reflector asks.
      timeoutSeconds: Math.round(300 * (1 + Math.random())),
    };
    return new Promise<WatchEnd>((resolve, reject) => {
      const startedAt = Date.now();
      let events = 0;
      let ended = false;
      let errorStatus: KubeStatus | undefined;
      let controller: AbortController | undefined;
      const onEvent = (type: string, object: unknown): void => {
        events += 1;
        this.#failures = 0; // a working watch: the next failure starts the backoff over
        errorStatus ??= this.#apply(type, object);
        if (errorStatus !== undefined) controller?.abort();
      };
      const onDone = (error: unknown): void => {
        if (ended) return;
        ended = true;
        this.#closing.signal.removeEventListener('abort', onClose);
        if (this.#watchController === controller) this.#watchController = undefined;
        if (this.#closing.signal.aborted) return resolve('ended');
        if (errorStatus?.code === 410) return resolve('expired');
        const emptyAndShort = events === 0 && Date.now() - startedAt < SHORT_WATCH_MS;
        const failure = watchFailure(error, errorStatus, emptyAndShort, stallTimeoutMs);
        if (failure === undefined) resolve('ended');
        else reject(failure);
      };
      const onClose = (): void => onDone(undefined);
      this.#closing.signal.addEventListener('abort', onClose, { once: true });
      api.watch(query, onEvent, onDone).then(
        (opened) => {
          controller = opened;
          if (ended || errorStatus !== undefined) {
            opened.abort(); // closed meanwhile: the request must not outlive the watcher
            return;
          }
          this.#watchController = opened;
          if (!this.#healthy)
            this.#options.logger.info({ object: this.#label }, 'Kubernetes watch running again');
          this.#healthy = true;
        },
        (error: unknown) => onDone(error),
      );
    });
  }

  /** Applies one watch event; returns the Status an ERROR event carries. */
  #apply(type: string, object: unknown): KubeStatus | undefined {
    if (type === 'ERROR') return object ?? {};
    const watched = object as WatchedObject;
    const version = watched.metadata?.resourceVersion;
    if (version !== undefined) this.#resourceVersion = version;
    if (type === 'ADDED' || type === 'MODIFIED') this.#update(this.#options.api.kind.dataOf(watched));
    else if (type === 'DELETED') this.#update(EMPTY_RECORD);
    return undefined; // BOOKMARK: only the resourceVersion
  }

  #update(data: StringRecord): void {
    if (recordsEqual(this.#data, data)) return;
    this.#data = data;
    if (this.#started) this.#options.onChange();
  }
}

/** Why a watch ended, or undefined when the server just ended it. */
function watchFailure(
  error: unknown,
  errorStatus: KubeStatus | undefined,
  emptyAndShort: boolean,
  stallTimeoutMs: number,
): Error | undefined {
  if (errorStatus !== undefined) return new Error(`watch failed: ${describeStatus(errorStatus)}`);
  if (isTimeout(error)) return new Error(`the watch delivered nothing for ${stallTimeoutMs} ms (stalled)`);
  if (error instanceof Error) return error;
  if (error !== null && error !== undefined) return new Error(describeKubeError(error));
  return emptyAndShort ? new Error('the API server closed the watch at once') : undefined;
}

/** client-node ends a watch with a TimeoutError DOMException when its inactivity timer fires. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}
