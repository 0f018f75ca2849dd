// NAMESPACES_SOURCE=kubernetes against real Redis, standalone and a 3+3 cluster: the test creates
// each namespace's ACL user itself (on every node, replicas included) with the commands the
// operator grants, and feeds the data plane snapshots through a source of our own (the Kubernetes
// watcher is tested on its own). Namespaces come and go at run time; each is served over a Redis
// connection authenticated as its own ACL user, under its own limits and access list.
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { Cluster, Redis } from 'ioredis';
import { waitFor } from '../support/child-process-server.ts';
import {
  redisCli,
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../support/redis-harness.ts';
import {
  aclUserOf,
  configEntry,
  credentialsOf,
  FakeNamespaceSource,
  snapshotOf,
  type EntrySpec,
} from '../support/tenancy-fixture.ts';
import { startTestDataPlane, type TestDataPlane } from '../support/test-data-plane.ts';

type Mode = 'standalone' | 'cluster';

interface Topology {
  mode: Mode;
  /** Every node, `host:port`. */
  nodes: string[];
}

const test = anyTest as TestFn<{
  standalone: RedisServerHandle;
  cluster: RedisClusterHandle;
  topologies: Record<Mode, Topology>;
}>;

const PASSWORDS = { orders: 'orders-secret-1', payments: 'payments-secret-1' } as const;
const WAIT_MS = 20_000;

// The operator's list, loaded by path: its project builds on this one, not the other way round.
const commandsModule = new URL('../../../operator/src/desired/data-plane-commands.ts', import.meta.url).href;
const { dataPlaneCommands } = (await import(commandsModule)) as {
  dataPlaneCommands: (topology: { mode: Mode; db: number }) => string[];
};

test.before(async (t) => {
  const [standalone, cluster] = await Promise.all([startRedisStandalone(), startRedisCluster()]);
  t.context.standalone = standalone;
  t.context.cluster = cluster;
  t.context.topologies = {
    standalone: { mode: 'standalone', nodes: [standalone.address] },
    cluster: { mode: 'cluster', nodes: cluster.addresses },
  };
  for (const topology of Object.values(t.context.topologies)) {
    for (const namespace of ['orders', 'payments'] as const) {
      await createAclUser(topology, namespace, PASSWORDS[namespace]);
    }
  }
});

test.after.always(async (t) => {
  await Promise.all([t.context.standalone?.stop(), t.context.cluster?.stop()]);
});

/** The namespace's ACL user, as the operator makes it, on every node. */
async function createAclUser(topology: Topology, namespace: string, password: string): Promise<void> {
  const commands = dataPlaneCommands({ mode: topology.mode, db: 0 }).map((command) => `+${command}`);
  for (const node of topology.nodes) {
    await redisCli(
      node,
      ...['ACL', 'SETUSER', aclUserOf(namespace), 'reset', 'on', `>${password}`, `~${namespace}:*`],
      ...['resetchannels', '-@all', ...commands],
    );
  }
}

async function startPlane(
  t: ExecutionContext,
  topology: Topology,
): Promise<{ plane: TestDataPlane; source: FakeNamespaceSource }> {
  const source = new FakeNamespaceSource(snapshotOf({}));
  const plane = await startTestDataPlane(
    {
      NAMESPACES_SOURCE: 'kubernetes',
      REDIS_ADDRESSES: topology.nodes.slice(0, 1).join(','),
      REDIS_CLUSTER_MODE: String(topology.mode === 'cluster'),
      REDIS_DIAL_TIMEOUT: '2s',
      REDIS_READ_TIMEOUT: '1s',
      REDIS_WRITE_TIMEOUT: '1s',
      LOG_LEVEL: 'info',
    },
    { namespaceSource: source },
  );
  t.teardown(() => plane.stop());
  return { plane, source };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface Caller {
  subject: string;
  groups?: string[];
}

const writer: Caller = { subject: 'writer' };
const reader: Caller = { subject: 'auditor', groups: ['readers'] };
const stranger: Caller = { subject: 'stranger' };

function client(plane: TestDataPlane) {
  const call = async (caller: Caller, method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${plane.baseUrl}/api/v1/cache/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${plane.signedToken(caller)}`,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    get: (caller: Caller, namespace: string, key: string) => call(caller, 'GET', `${namespace}/${key}`),
    put: (caller: Caller, namespace: string, key: string, value: string, ttlSeconds?: number) =>
      call(caller, 'PUT', `${namespace}/${key}`, {
        value,
        ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
      }),
    del: (caller: Caller, namespace: string, key: string) => call(caller, 'DELETE', `${namespace}/${key}`),
  };
}

/** As Redis's default user, over a client that follows the cluster's redirections. */
async function asAdmin<T>(topology: Topology, use: (redis: Redis | Cluster) => Promise<T>): Promise<T> {
  const [host, port] = (topology.nodes[0] as string).split(':');
  const redis =
    topology.mode === 'cluster'
      ? new Cluster([{ host, port: Number(port) }])
      : new Redis({ host, port: Number(port) });
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

interface Connection {
  user: string;
  cmd: string;
}

/** Every client connection on every node, with its user and last command. */
async function connections(topology: Topology): Promise<Connection[]> {
  const found: Connection[] = [];
  for (const node of topology.nodes) {
    for (const line of (await redisCli(node, 'CLIENT', 'LIST')).split('\n')) {
      const user = / user=(\S+)/.exec(line)?.[1];
      const cmd = / cmd=(\S+)/.exec(line)?.[1];
      if (user !== undefined && cmd !== undefined) found.push({ user, cmd });
    }
  }
  return found;
}

/** ACL LOG entries (refusals) of `user` on every node. */
async function aclRefusals(topology: Topology, user: string): Promise<number> {
  let count = 0;
  for (const node of topology.nodes) {
    const log = await redisCli(node, 'ACL', 'LOG');
    count += log.split('\n').filter((line) => line.trim() === user).length;
  }
  return count;
}

const DATA_COMMANDS = new Set(['get', 'set', 'mget', 'del', 'evalsha', 'eval']);

for (const mode of ['standalone', 'cluster'] as const) {
  test(`${mode}: namespaces added, changed and removed at run time, each as its own ACL user`, async (t) => {
    const topology = t.context.topologies[mode];
    const { plane, source } = await startPlane(t, topology);
    const api = client(plane);
    const ordersSpec: EntrySpec = { limits: { maxValueBytes: 1024, maxTtlMs: 60_000, defaultTtlMs: 30_000 } };
    let entries: Record<string, Record<string, unknown>> = {};
    let secret: Record<string, string> = {};
    const publish = (): void => source.push(snapshotOf(entries, secret));

    // Not configured yet.
    const before = await api.put(writer, 'orders', 'k', 'v0');
    t.like(before, {
      status: 403,
      body: { code: 'FORBIDDEN', message: 'namespace "orders" is not configured' },
    });

    // Added at run time: served without a restart.
    entries = { orders: configEntry('orders', ordersSpec) };
    secret = credentialsOf('orders', PASSWORDS.orders);
    publish();
    t.like(await api.put(writer, 'orders', 'k', 'v1'), {
      status: 200,
      body: { success: true, degraded: false },
    });
    t.like(await api.get(writer, 'orders', 'k'), { status: 200, body: { value: 'v1' } });

    // In Redis under the namespace's prefix, with its default TTL, written as its ACL user.
    const pttl = await asAdmin(topology, (redis) => redis.pttl('orders:k'));
    t.true(pttl > 0 && pttl <= 30_000, `PTTL ${pttl}`);
    const dataConnections = (await connections(topology)).filter(({ cmd }) => DATA_COMMANDS.has(cmd));
    t.true(
      dataConnections.some(({ user }) => user === aclUserOf('orders')),
      JSON.stringify(dataConnections),
    );
    t.deepEqual(
      dataConnections.filter(({ user }) => user !== aclUserOf('orders')),
      [],
      'no other user ran data commands',
    );

    // The namespace's bounds, then raised live.
    t.like(await api.put(writer, 'orders', 'big', 'x'.repeat(1025)), {
      status: 413,
      body: { code: 'PAYLOAD_TOO_LARGE' },
    });
    t.like(await api.put(writer, 'orders', 'long', 'v', 61), { status: 400, body: { code: 'TTL_INVALID' } });
    entries = {
      orders: configEntry('orders', {
        limits: { maxValueBytes: 2048, maxTtlMs: 120_000, defaultTtlMs: 30_000 },
      }),
    };
    publish();
    await waitFor(
      async () => (await api.put(writer, 'orders', 'big', 'x'.repeat(1025))).status === 200,
      WAIT_MS,
      'the raised value bound',
    );
    t.like(await api.put(writer, 'orders', 'long', 'v', 90), { status: 200 });
    const longPttl = await asAdmin(topology, (redis) => redis.pttl('orders:long'));
    t.true(longPttl > 60_000 && longPttl <= 90_000, `PTTL ${longPttl}`);
    t.like(
      await api.get(writer, 'orders', 'k'),
      { status: 200, body: { value: 'v1' } },
      'same connection, same data',
    );

    // The access list: a listed group reads, an unlisted subject is refused.
    t.like(await api.get(reader, 'orders', 'k'), { status: 200, body: { value: 'v1' } });
    t.like(await api.put(reader, 'orders', 'k', 'x'), { status: 403 });
    const refused = await api.get(stranger, 'orders', 'k');
    t.like(refused, { status: 403, body: { code: 'FORBIDDEN' } });
    t.regex(String(refused.body['message']), /does not allow subject "stranger" to get/);

    // A second namespace, with its own user; neither user was ever refused anything.
    entries = { ...entries, payments: configEntry('payments') };
    secret = { ...secret, ...credentialsOf('payments', PASSWORDS.payments) };
    publish();
    t.like(await api.put(writer, 'payments', 'k', 'p1'), { status: 200 });
    t.is(await asAdmin(topology, (redis) => redis.exists('payments:k')), 1);
    const users = new Set((await connections(topology)).map(({ user }) => user));
    t.true(users.has(aclUserOf('orders')) && users.has(aclUserOf('payments')), [...users].join(' '));
    t.is(await aclRefusals(topology, aclUserOf('orders')), 0);
    t.is(await aclRefusals(topology, aclUserOf('payments')), 0);

    // A wrong password in the Secret: 503 with the reason, for reads and writes alike.
    secret = { ...secret, 'payments.password': 'not-the-password' };
    publish();
    await waitFor(
      async () => (await api.get(writer, 'payments', 'k')).status === 503,
      WAIT_MS,
      'payments to fail with the wrong password',
    );
    const wrong = await api.put(writer, 'payments', 'k', 'p2');
    t.like(wrong, { status: 503, body: { code: 'REDIS_UNAVAILABLE' } });
    t.regex(
      String(wrong.body['message']),
      /Redis refuses the credentials of namespace "payments".*WRONGPASS/,
    );
    t.like(await api.get(writer, 'orders', 'k'), { status: 200 }, 'other namespaces are served');
    t.like(
      await fetch(`${plane.baseUrl}/ready`),
      { status: 200 },
      'one namespace’s credentials do not make the replica unready',
    );

    // ... fixed by the next Secret change.
    secret = { ...secret, ...credentialsOf('payments', PASSWORDS.payments) };
    publish();
    await waitFor(
      async () => (await api.get(writer, 'payments', 'k')).status === 200,
      WAIT_MS,
      'payments to be served again',
    );
    t.like(await api.get(writer, 'payments', 'k'), { body: { value: 'p1' } });

    // Removed: refused, and its connections closed.
    entries = { payments: configEntry('payments') };
    publish();
    await waitFor(
      async () => (await api.get(writer, 'orders', 'k')).status === 403,
      WAIT_MS,
      'orders to be refused',
    );
    t.like(await api.get(writer, 'orders', 'k'), {
      body: { message: 'namespace "orders" is not configured' },
    });
    await waitFor(
      async () => !(await connections(topology)).some(({ user }) => user === aclUserOf('orders')),
      WAIT_MS,
      "the removed namespace's connections to close",
    );
    t.like(await api.get(writer, 'payments', 'k'), { status: 200 });
  });
}
