// The operator and the data plane together, each as its own process, against a real API server and
// real Redis: a CacheNamespace applied while the data plane runs is served without a restart, under
// its access list and limits, over a Redis connection authenticated as the namespace's ACL user; a
// change to the spec applies live; deleting it takes the namespace away.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Redis } from 'ioredis';
import { signToken } from '../../../dataplane/src/auth/jwt-verifier.ts';
import { decodeEnvelope } from '../../../dataplane/src/redis/envelope.ts';
import { startReplica, type ReplicaProcess } from '../../../dataplane/test/support/replica-process.ts';
import { TEST_SECRET } from '../../../dataplane/test/support/test-data-plane.ts';
import type { KubeEnv } from '../support/kube-env.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import {
  DATA_PLANE_ACCOUNT,
  OPERATOR_NAMESPACE,
  OPERATOR_REDIS_USER,
  createCacheNamespace,
  deleteCacheNamespace,
  serviceAccountKubeConfig,
  startWorld,
  updateSpec,
  waitFor,
  waitGone,
  waitReady,
  type World,
} from '../support/operator-world.ts';

const TEAM = 'team-a';
const ACL_USER = `cacheplane.${TEAM}.orders`;

const SPEC = {
  maxValueBytes: 1024,
  access: [
    { subjects: ['alice'], verbs: ['get', 'set'] },
    { groups: ['auditors'], verbs: ['get'] },
  ],
};

interface Caller {
  subject: string;
  groups?: string[];
}

const alice: Caller = { subject: 'alice' };
const bob: Caller = { subject: 'bob' };
const carol: Caller = { subject: 'carol', groups: ['auditors'] };

for (const mode of ['standalone', 'cluster'] as const) {
  test(`${mode}: a CacheNamespace applied at run time is served under its access list, limits and ACL user`, async (t) => {
    const world = await startWorld(mode);
    const scratch = mkdtempSync(join(tmpdir(), 'cacheplane-e2e-'));
    const processes: Array<OperatorProcess | ReplicaProcess> = [];
    t.teardown(async () => {
      await Promise.all(processes.map((process) => process.stop()));
      await world.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    processes.push(await startOperator(world));
    const dataPlane = await startReplica(`e2e-${mode}`, {
      KUBECONFIG: await dataPlaneKubeconfig(world.kube, scratch),
      NAMESPACES_SOURCE: 'kubernetes',
      REDIS_ADDRESSES: world.redisNodes.join(','),
      REDIS_CLUSTER_MODE: String(mode === 'cluster'),
      LOG_LEVEL: 'info',
    });
    processes.push(dataPlane);
    const rest = restClient(dataPlane);

    // Before the CacheNamespace exists, nobody may use the name.
    t.like(await rest.put(alice, 'orders', 'k1', 'v0'), { status: 403 });

    const applied = performance.now();
    await createCacheNamespace(world.kube, TEAM, 'orders', SPEC);
    await waitFor(
      'the data plane to serve orders',
      async () => (await rest.put(alice, 'orders', 'k1', 'v1')).status === 200,
      20_000,
      10,
    );
    t.log(`created → served by the data plane: ${Math.round(performance.now() - applied)} ms`);
    await waitReady(world.kube, TEAM, 'orders');

    t.like(await rest.get(alice, 'orders', 'k1'), { status: 200, body: { value: 'v1' } });
    t.like(
      await rest.get(carol, 'orders', 'k1'),
      { status: 200, body: { value: 'v1' } },
      'a listed group may read',
    );
    t.like(await rest.put(carol, 'orders', 'k1', 'x'), { status: 403 }, 'the group may not write');
    t.like(await rest.get(bob, 'orders', 'k1'), { status: 403 }, 'an unlisted subject is refused');
    t.like(await rest.del(alice, 'orders', 'k1'), { status: 403 }, 'delete is not among alice’s verbs');
    t.like(
      await rest.put(alice, 'orders', 'big', 'x'.repeat(2048)),
      { status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } },
      'the namespace’s maxValueBytes, not the data plane’s default, bounds values',
    );

    // What Redis holds, and who wrote it.
    t.is((await redisGet(world, 'orders:k1'))?.toString(), 'v1', 'stored under the namespace prefix');
    t.true(
      (await clientUsers(world)).has(ACL_USER),
      'the data plane is connected to Redis as the namespace’s ACL user',
    );

    // A spec change applies without restarting anything.
    await updateSpec(world.kube, TEAM, 'orders', (spec) => ({
      ...spec,
      maxValueBytes: 4096,
      access: [...SPEC.access, { subjects: ['bob'], verbs: ['get', 'set', 'delete'] }],
    }));
    await waitFor('bob to be let in', async () => (await rest.get(bob, 'orders', 'k1')).status === 200);
    t.like(
      await rest.put(alice, 'orders', 'big', 'x'.repeat(2048)),
      { status: 200 },
      'the raised bound applies',
    );
    t.like(await rest.del(bob, 'orders', 'k1'), { status: 200, body: { deleted: true } });

    // A rate limit added to the spec applies live: a burst past it is refused with Retry-After.
    await updateSpec(world.kube, TEAM, 'orders', (spec) => ({
      ...spec,
      rateLimit: { opsPerSecond: 1, burst: 2 },
    }));
    const limited = await waitFor('the rate limit to apply', async () => {
      const answers = await Promise.all([1, 2, 3, 4].map(() => rest.get(alice, 'orders', 'big')));
      return answers.find((answer) => answer.status === 429);
    });
    t.like(limited, { body: { code: 'RATE_LIMITED' } });
    t.regex(limited.retryAfter ?? '', /^[1-9]\d*$/);

    // Deleting the CacheNamespace takes the name away from everyone.
    await deleteCacheNamespace(world.kube, TEAM, 'orders');
    await waitGone(world.kube, TEAM, 'orders');
    await waitFor(
      'the data plane to drop orders',
      async () => (await rest.get(alice, 'orders', 'big')).status === 403,
    );
    t.like(await rest.get(bob, 'orders', 'big'), { status: 403 });
    await waitFor(
      'the ACL user’s connections to close',
      async () => !(await clientUsers(world)).has(ACL_USER),
    );
  });
}

async function startOperator(world: World): Promise<OperatorProcess> {
  const operator = await startOperatorProcess(`e2e-${world.mode}`, {
    KUBECONFIG: world.operatorKubeconfig,
    OPERATOR_REDIS_ADDRESSES: world.redisNodes.join(','),
    OPERATOR_REDIS_CLUSTER_MODE: String(world.mode === 'cluster'),
    OPERATOR_REDIS_USERNAME: OPERATOR_REDIS_USER,
    OPERATOR_REDIS_PASSWORD: world.operatorRedisPassword,
    OPERATOR_LEASE_NAMESPACE: OPERATOR_NAMESPACE,
    OPERATOR_BACKOFF_MAX: '2s',
    LOG_LEVEL: 'info', // the start line carries the port
  });
  await waitFor(
    'the operator to lead',
    async () => (await operator.metric('cacheplane_operator_leader')) === 1,
  );
  return operator;
}

/** The data plane's ServiceAccount (operator/rbac/data-plane-*.yaml) as a kubeconfig file. */
async function dataPlaneKubeconfig(kube: KubeEnv, dir: string): Promise<string> {
  const path = join(dir, 'data-plane.kubeconfig');
  writeFileSync(path, (await serviceAccountKubeConfig(kube, DATA_PLANE_ACCOUNT)).exportConfig(), {
    mode: 0o600,
  });
  return path;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | undefined;
}

function restClient(dataPlane: ReplicaProcess) {
  const call = async (caller: Caller, method: string, path: string, body?: unknown): Promise<Answer> => {
    const token = signToken(TEST_SECRET, { ...caller, ttlSeconds: 600 });
    const response = await fetch(`${dataPlane.baseUrl}/api/v1/cache/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
      retryAfter: response.headers.get('retry-after') ?? undefined,
    };
  };
  return {
    get: (caller: Caller, namespace: string, key: string) => call(caller, 'GET', `${namespace}/${key}`),
    put: (caller: Caller, namespace: string, key: string, value: string) =>
      call(caller, 'PUT', `${namespace}/${key}`, { value }),
    del: (caller: Caller, namespace: string, key: string) => call(caller, 'DELETE', `${namespace}/${key}`),
  };
}

/** As Redis's default user: the payload under a storage key, whichever node holds it. */
async function redisGet(world: World, key: string): Promise<Buffer | undefined> {
  return withNodes(world, async (clients) => {
    for (const client of clients) {
      try {
        const raw = await client.getBuffer(key);
        if (raw !== null) return decodeEnvelope(raw).value;
      } catch (error) {
        if (!String(error).includes('MOVED')) throw error;
      }
    }
    return undefined;
  });
}

/** The users of every client connection on every node. */
async function clientUsers(world: World): Promise<Set<string>> {
  return withNodes(world, async (clients) => {
    const users = new Set<string>();
    for (const client of clients) {
      const list = (await client.call('CLIENT', 'LIST')) as string;
      for (const match of list.matchAll(/ user=(\S+)/g)) users.add(match[1] as string);
    }
    return users;
  });
}

async function withNodes<T>(world: World, use: (clients: Redis[]) => Promise<T>): Promise<T> {
  const clients = world.redisNodes.map((node) => {
    const [host, port] = node.split(':');
    return new Redis({ host, port: Number(port), maxRetriesPerRequest: 0 });
  });
  try {
    return await use(clients);
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}
