// Redis ACL users, per node. ACLs are not replicated: in Redis Cluster every node, replicas
// included, has its own, so every change goes to every node that CLUSTER NODES lists. The operator
// talks to Redis with its own credentials (see operator/README.md for the ACL user it needs).
import { Redis } from 'ioredis';
import { parseAddress } from '../../../dataplane/src/redis/connect.ts';
import {
  parseGetUser,
  passwordHash,
  setUserRules,
  type AclUserSpec,
  type AclUserState,
} from './acl-rules.ts';
import { parseClusterNodes } from './cluster-nodes.ts';

/** The Redis side of the reconcile: small, so that the reconcile logic can be tested without Redis. */
export interface RedisAcl {
  /** Creates or replaces the user on every node: afterwards it has exactly `user`'s rules. */
  apply(user: AclUserSpec, password: string): Promise<void>;
  /** Deletes the user from every node; a node without the user is fine. */
  remove(name: string): Promise<void>;
  /** The user as each node (`host:port`) has it; undefined where it does not exist. */
  inspect(name: string): Promise<Map<string, AclUserState | undefined>>;
  close(): Promise<void>;
}

export interface RedisAdminConfig {
  mode: 'standalone' | 'cluster';
  /**
   * `host:port` or `redis[s]://[user[:password]@]host[:port]`. Standalone: the server (the first
   * address). Cluster: seeds; every node is then found with CLUSTER NODES.
   */
  addresses: string[];
  /** The operator's own ACL user; takes precedence over credentials in the URLs. */
  username?: string | undefined;
  password?: string | undefined;
  tls?: boolean | undefined;
  /** @default 2000 */
  connectTimeoutMs?: number | undefined;
  /** @default 2000 */
  commandTimeoutMs?: number | undefined;
  /**
   * When set, only users whose name starts with this are touched (e.g. `cacheplane.`): a bug or a
   * bad input can then never change or delete anyone else's user.
   */
  managedUserPrefix?: string | undefined;
}

/**
 * The rules of the operator's own Redis user (after `on` and its password): it manages ACL users and,
 * in a cluster, reads the topology; it touches no key and no channel. Whoever may run ACL SETUSER
 * can grant themselves anything, so these credentials are as sensitive as Redis's admin password.
 */
export function operatorAclRules(mode: 'standalone' | 'cluster'): string[] {
  return [
    'resetkeys',
    'resetchannels',
    '-@all',
    '+acl|setuser',
    '+acl|deluser',
    '+acl|getuser',
    ...(mode === 'cluster' ? ['+cluster|nodes'] : []),
  ];
}

/** Some nodes refused or could not be reached; the others were changed. */
export class AclNodesError extends Error {
  readonly failures: ReadonlyArray<{ node: string; error: Error }>;
  readonly nodeCount: number;

  constructor(action: string, failures: Array<{ node: string; error: Error }>, nodeCount: number) {
    const details = failures.map(({ node, error }) => `${node}: ${error.message}`).join('; ');
    super(`${action} failed on ${failures.length} of ${nodeCount} Redis node(s): ${details}`);
    this.name = 'AclNodesError';
    this.failures = failures;
    this.nodeCount = nodeCount;
  }
}

interface NodeAddress {
  host: string;
  port: number;
  address: string;
  tls: boolean;
  username: string | undefined;
  password: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 2000;

/** RedisAcl over ioredis: one plain connection per node, made on first use and kept. */
export class IoredisAcl implements RedisAcl {
  readonly #config: RedisAdminConfig;
  readonly #seeds: NodeAddress[];
  readonly #connections = new Map<string, Promise<Redis>>();
  #known: NodeAddress[] = [];
  #closed = false;

  constructor(config: RedisAdminConfig) {
    if (config.addresses.length === 0) throw new Error('IoredisAcl: no Redis address configured');
    this.#config = config;
    this.#seeds = config.addresses.map((text) => {
      const target = parseAddress(text);
      return {
        host: target.host,
        port: target.port,
        address: addressOf(target.host, target.port),
        tls: config.tls ?? target.tls,
        username: config.username ?? target.username,
        password: config.password ?? target.password,
      };
    });
  }

  async apply(user: AclUserSpec, password: string): Promise<void> {
    this.#guard(user.name);
    const rules = setUserRules(user, passwordHash(password));
    await this.#onEveryNode(`ACL SETUSER ${user.name}`, (client) =>
      client.call('ACL', 'SETUSER', user.name, ...rules),
    );
  }

  async remove(name: string): Promise<void> {
    this.#guard(name);
    await this.#onEveryNode(`ACL DELUSER ${name}`, (client) => client.call('ACL', 'DELUSER', name));
  }

  async inspect(name: string): Promise<Map<string, AclUserState | undefined>> {
    this.#guard(name);
    return this.#onEveryNode(`ACL GETUSER ${name}`, async (client) =>
      parseGetUser(await client.call('ACL', 'GETUSER', name)),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(
      connections.map(async (pending) => {
        const client = await pending.catch(() => undefined);
        await client?.quit().catch(() => client.disconnect());
      }),
    );
  }

  /** Runs `command` on every node at once; throws AclNodesError when any of them failed. */
  async #onEveryNode<T>(action: string, command: (client: Redis) => Promise<T>): Promise<Map<string, T>> {
    if (this.#closed) throw new Error('IoredisAcl is closed');
    const nodes = await this.#nodes();
    const settled = await Promise.allSettled(
      nodes.map(async (node) => command(await this.#connection(node))),
    );
    const results = new Map<string, T>();
    const failures: Array<{ node: string; error: Error }> = [];
    settled.forEach((outcome, index) => {
      const node = (nodes[index] as NodeAddress).address;
      if (outcome.status === 'fulfilled') results.set(node, outcome.value);
      else failures.push({ node, error: asError(outcome.reason) });
    });
    if (failures.length > 0) throw new AclNodesError(action, failures, nodes.length);
    return results;
  }

  /** Standalone: the server. Cluster: every node CLUSTER NODES lists, asked of the first seed that answers. */
  async #nodes(): Promise<NodeAddress[]> {
    const [first] = this.#seeds;
    if (this.#config.mode === 'standalone') return [first as NodeAddress];
    const problems: string[] = [];
    const candidates = uniqueBy([...this.#seeds, ...this.#known], (node) => node.address);
    for (const seed of candidates) {
      try {
        const client = await this.#connection(seed);
        const output = (await client.call('CLUSTER', 'NODES')) as string;
        const nodes = parseClusterNodes(output).map((node) => ({ ...seed, ...node }));
        if (nodes.length === 0) throw new Error('CLUSTER NODES listed no node with an address');
        this.#forgetAllBut(nodes);
        this.#known = nodes;
        return nodes;
      } catch (error) {
        problems.push(`${seed.address}: ${asError(error).message}`);
      }
    }
    throw new Error(`no Redis Cluster node answered CLUSTER NODES (${problems.join('; ')})`);
  }

  /** A ready connection to the node: the kept one, or a new one when it was lost. */
  async #connection(node: NodeAddress): Promise<Redis> {
    const kept = this.#connections.get(node.address);
    if (kept !== undefined) {
      const client = await kept.catch(() => undefined);
      if (client?.status === 'ready') return client;
      client?.disconnect();
      if (this.#connections.get(node.address) === kept) this.#connections.delete(node.address);
      else return this.#connection(node);
    }
    const created = connect(node, this.#config);
    this.#connections.set(node.address, created);
    created.catch(() => {
      if (this.#connections.get(node.address) === created) this.#connections.delete(node.address);
    });
    return created;
  }

  /** Closes connections to nodes that left the cluster. */
  #forgetAllBut(nodes: NodeAddress[]): void {
    const current = new Set([...nodes, ...this.#seeds].map((node) => node.address));
    for (const [address, pending] of this.#connections) {
      if (current.has(address)) continue;
      this.#connections.delete(address);
      pending.then((client) => client.disconnect()).catch(() => {});
    }
  }

  #guard(name: string): void {
    const own = this.#config.username ?? this.#seeds[0]?.username;
    if (name === 'default' || name === own || /\s/.test(name) || name === '') {
      throw new Error(`refusing to manage Redis ACL user "${name}": not a cache namespace's user`);
    }
    const prefix = this.#config.managedUserPrefix;
    if (prefix !== undefined && !name.startsWith(prefix)) {
      throw new Error(
        `refusing to manage Redis ACL user "${name}": its name does not start with "${prefix}"`,
      );
    }
  }
}

/**
 * A fail-fast admin connection: no offline queue, no retries, no background reconnects (a lost
 * connection is made again on next use), every command bounded by the command timeout. No ready
 * check and no CLIENT SETINFO, so that the operator's user needs only the ACL commands.
 */
async function connect(node: NodeAddress, config: RedisAdminConfig): Promise<Redis> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    username: node.username,
    password: node.password,
    ...(node.tls ? { tls: {} } : {}),
    connectTimeout: config.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    commandTimeout: config.commandTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    disableClientInfo: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: () => null,
  });
  // Errors reach the caller through connect() and the commands; this keeps ioredis from printing them.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    throw new Error(`cannot connect: ${asError(error).message}`, { cause: error });
  }
}

function addressOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
