// List and watch of one named object through client-node, by field selector (so that RBAC can
// restrict the reader to that name), on connections of its own.
import {
  CoreV1Api,
  Observable,
  Watch,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { shareConnections } from './kube-connection-reuse.ts';
import type { WatchedKind, WatchedList } from './kube-watched-kinds.ts';

export interface WatchQuery {
  /** Where the watch starts; none: from now, with the current state as ADDED events. */
  readonly resourceVersion: string | undefined;
  /** The server ends the watch (normally) after this long. */
  readonly timeoutSeconds: number;
}

/** One named object's API: all the watcher needs (tests give it a fake). */
export interface NamedObjectApi {
  readonly kind: WatchedKind;
  readonly namespace: string;
  readonly name: string;
  /** Lists the object by name; `signal` aborts the request. */
  list(signal: AbortSignal): Promise<WatchedList>;
  /**
   * Watches the object by name, with bookmarks. Resolves with the request's controller once the
   * server answered. `onDone` is called once, when the watch ends: with null when the server
   * ended it, with a TimeoutError when nothing came for `stallTimeoutMs`, else with the error.
   */
  watch(
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController>;
  /** Drops every connection it opened (requests in flight fail); later requests open new ones. */
  dropConnections(): Promise<void>;
}

export interface NamedObjectApiOptions {
  readonly kind: WatchedKind;
  readonly namespace: string;
  readonly name: string;
  readonly stallTimeoutMs: number;
}

export function createNamedObjectApi(kubeConfig: KubeConfig, options: NamedObjectApiOptions): NamedObjectApi {
  const { kind, namespace, name } = options;
  const connections = shareConnections(kubeConfig);
  const core = connections.kubeConfig.makeApiClient(CoreV1Api);
  const watcher = new Watch(connections.kubeConfig);
  // client-node's watch inactivity timeout: 30 s by default, shorter than the API server's
  // bookmark interval (about a minute), and a TypeScript-private field of Watch.
  (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.stallTimeoutMs;
  const fieldSelector = `metadata.name=${name}`;
  return {
    kind,
    namespace,
    name,
    list: (signal) => kind.list(core, namespace, fieldSelector, abortOn(signal)),
    watch: (query, onEvent, onDone) =>
      watcher.watch(
        kind.path(namespace),
        { ...query, fieldSelector, allowWatchBookmarks: true },
        onEvent,
        onDone,
      ),
    dropConnections: () => connections.drop(),
  };
}

/** Request options that abort a CoreV1Api call on `signal`. */
function abortOn(signal: AbortSignal): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: (request) => {
      request.setSignal(signal);
      return new Observable(Promise.resolve(request));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}
