import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/config.ts';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /**
   * Receives connection errors (refused, reset, node errors in a cluster). ioredis prints
   * "Unhandled error event" to stderr for each one when no listener is attached.
   */
  onError?: (error: Error) => void;
}

/** Reconnect delay after the n-th failed attempt: 100 ms doubling to a cap of 2 s. */
const RECONNECT_BASE_MS = 100;
const RECONNECT_CAP_MS = 2000;

export function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_BASE_MS * 2 ** Math.max(0, attempt - 1), RECONNECT_CAP_MS);
}

/**
 * A client that fails fast: no offline queue, no command retried or resent after a reconnect, every
 * command bounded by `commandTimeoutMs`. The connection itself keeps reconnecting in the background
 * (capped backoff), so Redis coming back is noticed without a restart.
 */
export function createRedisClient(config: RedisConfig, options: RedisClientOptions = {}): RedisClient {
  const targets = config.addresses.map(parseAddress);
  const first = targets[0];
  if (first === undefined) throw new Error('createRedisClient: no Redis address configured');
  const tls = config.tlsEnabled || first.tls;
  const shared: RedisOptions = {
    username: config.username ?? first.username,
    password: config.password ?? first.password,
    connectTimeout: config.dialTimeoutMs,
    commandTimeout: config.commandTimeoutMs,
    // Commands in flight when a connection drops are rejected, never replayed.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    ...(tls ? { tls: {} } : {}),
  };
  const client = config.clusterMode
    ? createCluster(targets, shared, config, tls)
    : createStandalone(first, shared, config);
  if (options.onError !== undefined) {
    const onError = options.onError;
    client.on('error', onError);
    if (client instanceof Cluster) client.on('node error', onError);
  }
  return client;
}

function createStandalone(target: RedisTarget, shared: RedisOptions, config: RedisConfig): Redis {
  return new Redis({
    ...shared,
    host: target.host,
    port: target.port,
    db: target.db ?? config.db,
    enableOfflineQueue: false,
    enableAutoPipelining: config.autoPipelining,
    retryStrategy: reconnectDelay,
    lazyConnect: false,
  });
}

function createCluster(
  targets: RedisTarget[],
  shared: RedisOptions,
  config: RedisConfig,
  tls: boolean,
): Cluster {
  const clusterOptions: ClusterOptions = {
    redisOptions: shared,
    lazyConnect: false,
    enableOfflineQueue: false,
    enableAutoPipelining: config.autoPipelining,
    scaleReads: 'master',
    slotsRefreshTimeout: config.dialTimeoutMs,
    clusterRetryStrategy: reconnectDelay,
    // ioredis 6 does not reconnect a lost node by default (it waits for a MOVED); a node that
    // restarts without a failover would then stay unusable until the next slots refresh.
    clusterNodeRetryStrategy: reconnectDelay,
    // These would re-send a command after a delay when its node is down or the cluster is down:
    // hidden retries, outside the command timeout. Fail instead; the circuit breaker decides.
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    // With TLS the certificates name hosts, not the IPs a lookup would turn them into.
    ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  const cluster = new Cluster(
    targets.map(({ host, port }) => ({ host, port })),
    clusterOptions,
  );
  // ioredis opens a node's connection on its first command, and without an offline queue it
  // rejects every other command sent to that node until the connection is up. Connect to each
  // node as soon as ioredis learns about it instead, but only once the cluster is ready: its ready
  // check (CLUSTER INFO) goes to a random node, and is refused with "Connection is closed" when
  // that node's connection is still being set up (more likely with ACL auth, one more round trip),
  // which makes the whole cluster reconnect, over and over. A node left waiting takes the check
  // into its own queue instead.
  const connectEagerly = (node: Redis): void => {
    if (node.status === 'wait') node.connect().catch(() => {});
  };
  cluster.on('+node', (node: Redis) => {
    if (cluster.status === 'ready') connectEagerly(node);
  });
  cluster.on('ready', () => {
    for (const node of cluster.nodes('all')) connectEagerly(node);
  });
  return cluster;
}

/**
 * True while the client can serve commands: the connection is ready and, in a cluster, so is the
 * connection to every primary (a cluster stays 'ready' while one of its primaries is down).
 */
export function isClientReady(client: RedisClient): boolean {
  if (client.status !== 'ready') return false;
  if (!(client instanceof Cluster)) return true;
  const primaries = client.nodes('master');
  return primaries.length > 0 && primaries.every((node) => node.status === 'ready');
}

/** Resolves once `isClientReady`; rejects after `timeoutMs` with the last connection error. */
export function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (isClientReady(client)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error): void => {
      lastError = error;
    };
    const deadline = Date.now() + timeoutMs;
    // Polled: in a cluster readiness spans several connections, each with its own events.
    const poll = setInterval(() => {
      if (isClientReady(client)) {
        cleanup();
        resolve();
      } else if (client.status === 'end' || Date.now() >= deadline) {
        cleanup();
        const why = client.status === 'end' ? 'the connection ended' : `not ready after ${timeoutMs} ms`;
        const cause = lastError === undefined ? '' : `: ${lastError.message}`;
        reject(new Error(`Redis ${why} (status ${client.status})${cause}`));
      }
    }, 20);
    const cleanup = (): void => {
      clearInterval(poll);
      client.off('error', onError);
      client.off('node error', onError);
    };
    client.on('error', onError);
    client.on('node error', onError);
  });
}

export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

/** `host:port`, or `redis://[user[:password]@]host[:port][/db]` (`rediss://` for TLS). */
export function parseAddress(address: string): RedisTarget {
  if (/^rediss?:\/\//.test(address)) {
    const url = new URL(address);
    const db = url.pathname.replace(/^\//, '');
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? 6379 : Number(url.port),
      tls: url.protocol === 'rediss:',
      ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
      ...(db === '' ? {} : { db: Number(db) }),
    };
  }
  const separator = address.lastIndexOf(':');
  const port = Number(address.slice(separator + 1));
  if (separator <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid Redis address "${address}": expected host:port or a redis:// URL`);
  }
  return { host: address.slice(0, separator), port, tls: false };
}
