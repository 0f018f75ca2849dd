// The operator against a real kube-apiserver + etcd and a real standalone Redis, in-process, with
// the permissions of operator/rbac/ (it authenticates as its ServiceAccount) and Redis as its own
// least-privilege user. Serial: the tests walk one world through create, update, drift, delete.
import test from 'ava';
import { CoreV1Api, EventsV1Api, Watch, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { ConditionType, Reason } from '../../src/api/types.ts';
import { ConfigEntrySchema } from '../../src/desired/config-entry.ts';
import { DEFAULT_SETTINGS, desiredState } from '../../src/desired/desired-state.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startOperator, type RunningOperator } from '../../src/operator.ts';
import { aclDrift, passwordHash } from '../../src/redis/acl-rules.ts';
import { parseCacheNamespace } from '../../src/api/types.ts';
import { redisCli } from '../../../dataplane/test/support/redis-harness.ts';
import {
  CONFIGMAP,
  CREDENTIALS_SECRET,
  DATA_PLANE_ACCOUNT,
  SPEC,
  aclUserOnEveryNode,
  conditionOf,
  createCacheNamespace,
  createOperatorRedisUser,
  decodeSecretData,
  deleteCacheNamespace,
  getCacheNamespace,
  operatorConfig,
  readConfigMapData,
  readSharedCredentials,
  serviceAccountKubeConfig,
  startWorld,
  updateSpec,
  waitFor,
  waitGone,
  waitReady,
  type World,
} from '../support/operator-world.ts';

test.serial.before(async (t) => {
  const world = await startWorld('standalone');
  t.context = { world };
  const operator = await startOperator(operatorConfig(world, { resyncPeriodMs: 1500 }), createLogger('warn'));
  (t.context as Context).operator = operator;
  await waitFor('the operator to lead', () => operator.election.leading, 20_000);
});

test.after.always(async (t) => {
  const context = t.context as Partial<Context>;
  await context.operator?.stop();
  await context.world?.stop();
});

interface Context {
  world: World;
  operator: RunningOperator;
}

function ctx(t: { context: unknown }): Context {
  return t.context as Context;
}

async function secretValues(world: World, namespace: string, name: string) {
  const secret = await world.kube.core.readNamespacedSecret({ namespace, name });
  return { secret, values: decodeSecretData(secret.data) };
}

/** Authenticates to the (standalone) Redis node as `username`, and runs `use`. */
async function asRedisUser<T>(
  world: World,
  username: string | undefined,
  password: string | undefined,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  const [host, port] = world.redisNodes[0]?.split(':') ?? [];
  const client = new Redis({
    host,
    port: Number(port),
    username,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  try {
    await client.connect();
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** The name of the first object a watch with `fieldSelector` delivers. */
async function firstWatched(config: KubeConfig, path: string, fieldSelector: string): Promise<string> {
  let delivered: (name: string) => void = () => undefined;
  let failed: (error: unknown) => void = () => undefined;
  const first = new Promise<string>((resolve, reject) => {
    delivered = resolve;
    failed = reject;
  });
  const controller = await new Watch(config).watch(
    path,
    { fieldSelector },
    (_type: string, object: V1Secret) => delivered(object.metadata?.name ?? ''),
    (error: unknown) => {
      if (error !== null && error !== undefined) failed(error);
    },
  );
  try {
    return await first;
  } finally {
    controller.abort();
  }
}

/** What the operator should have made of the stored object. */
function desiredFor(object: unknown) {
  const parsed = parseCacheNamespace(object);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return desiredState(parsed.resource, DEFAULT_SETTINGS);
}

test.serial('the API server refuses invalid specs', async (t) => {
  const { kube } = ctx(t).world;
  // 422 Invalid for schema and CEL violations; 400 for a strict decoding error.
  const refused: Array<[string, Record<string, unknown>, RegExp, number?]> = [
    ['no-access', {}, /spec\.access: Required value/],
    ['ttl-order', { ...SPEC, defaultTTL: '2h', maxTTL: '1h' }, /defaultTTL must not exceed maxTTL/],
    ['bad-memory', { ...SPEC, localCache: { maxMemory: '64M' } }, /spec\.localCache\.maxMemory/],
    ['wildcard', { access: [{ subjects: ['*'], verbs: ['get'] }] }, /spec\.access\[0\]\.subjects\[0\]/],
    ['nobody', { access: [{ verbs: ['get'] }] }, /an access rule needs at least one subject or group/],
    ['bad-ns', { ...SPEC, cacheNamespace: 'Orders:x' }, /spec\.cacheNamespace/],
    ['burst', { ...SPEC, rateLimit: { opsPerSecond: 10, burst: 5 } }, /burst must be at least opsPerSecond/],
    ['unknown', { ...SPEC, colour: 'blue' }, /strict decoding error: unknown field .*spec\.colour/, 400],
  ];
  for (const [name, spec, message, code = 422] of refused) {
    const error = await t.throwsAsync(createCacheNamespace(kube, 'team-a', name, spec));
    t.is((error as { code?: number }).code, code, name);
    t.regex(String((error as { body?: unknown }).body), message, name);
  }
  // Immutable cache namespace name.
  await createCacheNamespace(kube, 'team-a', 'immutable', SPEC);
  const error = await t.throwsAsync(
    updateSpec(kube, 'team-a', 'immutable', (spec) => ({ ...spec, cacheNamespace: 'other' })),
  );
  t.regex(String((error as { body?: unknown }).body), /the cache namespace name is immutable/);
  await deleteCacheNamespace(kube, 'team-a', 'immutable');
});

test.serial(
  'create: Ready, the ACL user exactly as desired, the Secret owned, the config entry published',
  async (t) => {
    const { world } = ctx(t);
    const created = await createCacheNamespace(world.kube, 'team-a', 'orders', SPEC);
    const ready = await waitReady(world.kube, 'team-a', 'orders');
    const desired = desiredFor(ready);

    t.deepEqual(ready.metadata.finalizers, ['cacheplane.dev/cleanup']);
    t.is(ready.status?.observedGeneration, 1);
    t.is(ready.status?.cacheNamespace, 'orders');
    t.is(ready.status?.aclUser, 'cacheplane.team-a.orders');
    t.is(ready.status?.credentialsSecret, 'orders-redis-acl');
    for (const type of [ConditionType.RedisACLReady, ConditionType.ConfigPublished, ConditionType.Ready]) {
      t.like(conditionOf(ready.status, type), {
        status: 'True',
        reason: Reason.Reconciled,
        observedGeneration: 1,
      });
    }

    const { secret, values } = await secretValues(world, 'team-a', 'orders-redis-acl');
    t.is(values['username'], 'cacheplane.team-a.orders');
    t.regex(values['password'] ?? '', /^[A-Za-z0-9_-]{43}$/);
    t.deepEqual(
      secret.metadata?.ownerReferences?.map((r) => [
        r.kind,
        r.name,
        r.uid,
        r.controller,
        r.blockOwnerDeletion,
      ]),
      [['CacheNamespace', 'orders', created.metadata.uid, true, true]],
    );
    t.is(secret.metadata?.labels?.['app.kubernetes.io/managed-by'], 'cacheplane-operator');

    const states = await aclUserOnEveryNode(world, 'cacheplane.team-a.orders');
    t.is(states.size, 1);
    for (const [node, state] of states) {
      t.deepEqual(aclDrift(desired.aclUser, passwordHash(values['password'] ?? ''), state), [], node);
    }

    // The data plane's copy, in its own namespace: the same password, under the cache namespace's keys.
    const shared = await world.kube.core.readNamespacedSecret(CREDENTIALS_SECRET);
    t.is(shared.type, 'Opaque');
    t.is(shared.metadata?.labels?.['app.kubernetes.io/managed-by'], 'cacheplane-operator');
    t.is(shared.metadata?.ownerReferences, undefined);
    t.like(decodeSecretData(shared.data), {
      'orders.username': 'cacheplane.team-a.orders',
      'orders.password': values['password'],
    });

    const data = await readConfigMapData(world.kube);
    const entry = ConfigEntrySchema.parse(JSON.parse(data?.['orders.json'] ?? 'null'));
    t.deepEqual(entry, desired.config.entry);
    t.deepEqual(entry.redis.credentials, {
      secretNamespace: 'cacheplane-system',
      secretName: 'cacheplane-namespace-credentials',
      usernameKey: 'orders.username',
      passwordKey: 'orders.password',
    });

    const events = await world.kube.kubeConfig
      .makeApiClient(EventsV1Api)
      .listNamespacedEvent({ namespace: 'team-a' });
    const reasons = events.items.filter((e) => e.regarding?.name === 'orders').map((e) => e.reason);
    t.true(reasons.includes('AclUserCreated'), reasons.join());
    t.true(reasons.includes('ConfigPublished'), reasons.join());
  },
);

test.serial(
  "the namespace user reads and writes its own keys and gets NOPERM on another namespace's",
  async (t) => {
    const { world } = ctx(t);
    await createCacheNamespace(world.kube, 'team-b', 'payments', {
      access: [{ groups: ['payments'], verbs: ['get'] }],
    });
    await waitReady(world.kube, 'team-b', 'payments');
    const { values } = await secretValues(world, 'team-a', 'orders-redis-acl');
    await asRedisUser(world, values['username'], values['password'], async (client) => {
      t.is(await client.set('orders:k1', 'v1', 'PX', 60_000), 'OK');
      t.is(await client.get('orders:k1'), 'v1');
      t.is(await client.del('orders:k1'), 1);
      await t.throwsAsync(client.set('payments:k1', 'x'), { message: /NOPERM/ });
      await t.throwsAsync(client.get('payments:k1'), { message: /NOPERM/ });
      await t.throwsAsync(client.get('orders-eu:k1'), { message: /NOPERM/ });
      await t.throwsAsync(client.call('KEYS', '*'), { message: /NOPERM/ });
      await t.throwsAsync(client.call('FLUSHALL'), { message: /NOPERM/ });
    });
  },
);

test.serial(
  'the data plane, with only data-plane-role.yaml, follows the entry to the shared Secret and authenticates as the ACL user',
  async (t) => {
    const { world } = ctx(t);
    const config = await serviceAccountKubeConfig(world.kube, DATA_PLANE_ACCOUNT);
    const core = config.makeApiClient(CoreV1Api);
    const byName = (name: string) => `metadata.name=${name}`;

    // What the data plane does: list (and watch) each of its two objects by name, in its namespace.
    const configMaps = await core.listNamespacedConfigMap({
      namespace: CONFIGMAP.namespace,
      fieldSelector: byName(CONFIGMAP.name),
    });
    const entry = ConfigEntrySchema.parse(JSON.parse(configMaps.items[0]?.data?.['orders.json'] ?? 'null'));
    const { secretNamespace, secretName, usernameKey, passwordKey } = entry.redis.credentials;
    t.is(secretNamespace, CONFIGMAP.namespace, 'the credentials are in the data plane’s own namespace');
    const secrets = await core.listNamespacedSecret({
      namespace: secretNamespace,
      fieldSelector: byName(secretName),
    });
    t.deepEqual(
      secrets.items.map((secret) => secret.metadata?.name),
      [secretName],
    );
    const values = decodeSecretData(secrets.items[0]?.data);
    const read = await core.readNamespacedSecret({ namespace: secretNamespace, name: secretName });
    t.deepEqual(decodeSecretData(read.data), values);
    const path = (resource: string) => `/api/v1/namespaces/${secretNamespace}/${resource}`;
    t.is(await firstWatched(config, path('secrets'), byName(secretName)), secretName);
    t.is(await firstWatched(config, path('configmaps'), byName(CONFIGMAP.name)), CONFIGMAP.name);

    const own = await secretValues(world, 'team-a', 'orders-redis-acl');
    t.is(values[passwordKey], own.values['password'], 'the same password as the namespace’s Secret');
    await asRedisUser(world, values[usernameKey], values[passwordKey], async (client) => {
      t.is(await client.set('orders:from-data-plane', 'v', 'PX', 60_000), 'OK');
      t.is(await client.get('orders:from-data-plane'), 'v');
    });

    // And nothing else: no team's Secret, no other object of its namespace, no write.
    const refused: Array<[string, () => Promise<unknown>]> = [
      ['a team’s Secret', () => core.readNamespacedSecret({ namespace: 'team-a', name: 'orders-redis-acl' })],
      ['every Secret of its namespace', () => core.listNamespacedSecret({ namespace: secretNamespace })],
      [
        'every ConfigMap of its namespace',
        () => core.listNamespacedConfigMap({ namespace: secretNamespace }),
      ],
      [
        'writing the shared Secret',
        () => core.replaceNamespacedSecret({ namespace: secretNamespace, name: secretName, body: read }),
      ],
      ['Secrets of all namespaces', () => core.listSecretForAllNamespaces()],
    ];
    for (const [what, call] of refused) {
      const error = await t.throwsAsync(call(), undefined, what);
      t.is((error as { code?: number } | undefined)?.code, 403, what);
    }
    await t.throwsAsync(firstWatched(config, path('secrets'), ''), undefined, 'a watch of every Secret');
  },
);

test.serial('shared credentials deleted or edited by hand are repaired', async (t) => {
  const { world } = ctx(t);
  const expected = await readSharedCredentials(world.kube);
  const shared = await world.kube.core.readNamespacedSecret(CREDENTIALS_SECRET);
  delete shared.data?.['orders.password'];
  if (shared.data !== undefined)
    shared.data['payments.username'] = Buffer.from('someone-else').toString('base64');
  await world.kube.core.replaceNamespacedSecret({ ...CREDENTIALS_SECRET, body: shared });
  const repaired = await waitFor('the keys to be repaired', async () => {
    const current = await readSharedCredentials(world.kube);
    return JSON.stringify(current) === JSON.stringify(expected) ? current : undefined;
  });
  t.deepEqual(repaired, expected);

  await world.kube.core.deleteNamespacedSecret(CREDENTIALS_SECRET);
  const recreated = await waitFor('the Secret to be created again with every key', async () => {
    const current = await readSharedCredentials(world.kube);
    return JSON.stringify(current) === JSON.stringify(expected) ? current : undefined;
  });
  t.deepEqual(Object.keys(recreated).sort(), [
    'orders.password',
    'orders.username',
    'payments.password',
    'payments.username',
  ]);
});

test.serial('update: a new config entry, the new generation observed, the ACL user untouched', async (t) => {
  const { world } = ctx(t);
  const before = await getCacheNamespace(world.kube, 'team-a', 'orders');
  const transition = conditionOf(before?.status, ConditionType.Ready)?.lastTransitionTime;
  const { values } = await secretValues(world, 'team-a', 'orders-redis-acl');
  await updateSpec(world.kube, 'team-a', 'orders', (spec) => ({
    ...spec,
    maxTTL: '2h',
    access: [...(spec['access'] as unknown[]), { groups: ['auditors'], verbs: ['get'] }],
  }));
  const ready = await waitFor('generation 2 observed', async () => {
    const object = await getCacheNamespace(world.kube, 'team-a', 'orders');
    return object?.status?.observedGeneration === 2 ? object : undefined;
  });
  t.like(conditionOf(ready.status, ConditionType.Ready), { status: 'True', observedGeneration: 2 });
  t.is(
    conditionOf(ready.status, ConditionType.Ready)?.lastTransitionTime,
    transition,
    'no flip, no new transition time',
  );
  const entry = ConfigEntrySchema.parse(
    JSON.parse((await readConfigMapData(world.kube))?.['orders.json'] ?? 'null'),
  );
  t.is(entry.limits.maxTtlMs, 7_200_000);
  t.is(entry.owner.generation, 2);
  t.deepEqual(entry.access.at(-1), { subjects: [], groups: ['auditors'], verbs: ['get'] });
  t.is((await secretValues(world, 'team-a', 'orders-redis-acl')).values['password'], values['password']);
});

test.serial('drift made by hand on the Redis node is repaired on the next resync', async (t) => {
  const { world } = ctx(t);
  const node = world.redisNodes[0] as string;
  await redisCli(node, 'ACL', 'SETUSER', 'cacheplane.team-a.orders', '+keys', '~*');
  const object = await getCacheNamespace(world.kube, 'team-a', 'orders');
  const desired = desiredFor(object);
  const { values } = await secretValues(world, 'team-a', 'orders-redis-acl');
  const hash = passwordHash(values['password'] ?? '');
  const drifted = (await aclUserOnEveryNode(world, 'cacheplane.team-a.orders')).get(node);
  t.true(aclDrift(desired.aclUser, hash, drifted).length > 0);
  // No Kubernetes event announces this: only the resync (1.5 s here) finds it.
  const repaired = await waitFor(
    'the drift to be repaired',
    async () => {
      const state = (await aclUserOnEveryNode(world, 'cacheplane.team-a.orders')).get(node);
      return aclDrift(desired.aclUser, hash, state).length === 0;
    },
    10_000,
  );
  t.true(repaired);
  const after = await waitFor('status to report the repair', async () => {
    const current = await getCacheNamespace(world.kube, 'team-a', 'orders');
    const acl = conditionOf(current?.status, ConditionType.RedisACLReady);
    return acl?.reason === Reason.AclDriftRepaired ? acl : undefined;
  });
  t.regex(
    after.message,
    new RegExp(
      `${node.replace(/\./g, '\\.')} \\(extra command rule\\(s\\): \\+keys; extra key pattern\\(s\\): ~\\*`,
    ),
  );
  const events = await world.kube.kubeConfig
    .makeApiClient(EventsV1Api)
    .listNamespacedEvent({ namespace: 'team-a' });
  t.true(events.items.some((e) => e.reason === 'AclDriftRepaired' && e.type === 'Warning'));
});

test.serial('a config entry removed by hand is published again', async (t) => {
  const { world } = ctx(t);
  const configMap = await world.kube.core.readNamespacedConfigMap({
    namespace: 'cacheplane-system',
    name: 'cacheplane-namespaces',
  });
  delete configMap.data?.['orders.json'];
  await world.kube.core.replaceNamespacedConfigMap({
    namespace: 'cacheplane-system',
    name: 'cacheplane-namespaces',
    body: configMap,
  });
  const data = await waitFor('the entry to come back', async () => {
    const current = await readConfigMapData(world.kube);
    return current?.['orders.json'] !== undefined ? current : undefined;
  });
  t.truthy(data['payments.json']);
});

test.serial(
  'delete: the ACL user leaves the node, the entry leaves the ConfigMap, the finalizer is released',
  async (t) => {
    const { world } = ctx(t);
    await deleteCacheNamespace(world.kube, 'team-b', 'payments');
    await waitGone(world.kube, 'team-b', 'payments');
    const states = await aclUserOnEveryNode(world, 'cacheplane.team-b.payments');
    t.deepEqual([...states.values()], [undefined]);
    const data = await readConfigMapData(world.kube);
    t.is(data?.['payments.json'], undefined);
    t.truthy(data?.['orders.json']);
    const shared = await readSharedCredentials(world.kube);
    t.deepEqual(Object.keys(shared ?? {}).sort(), ['orders.password', 'orders.username']);
  },
);

test.serial(
  'delete while Redis is down: the finalizer holds until Redis is back, then cleanup completes',
  async (t) => {
    const { world } = ctx(t);
    const redis = world.standalone;
    if (redis === undefined) throw new Error('standalone Redis expected');
    await redis.kill();
    await deleteCacheNamespace(world.kube, 'team-a', 'orders');
    const deleting = await waitFor('status Deleting', async () => {
      const object = await getCacheNamespace(world.kube, 'team-a', 'orders');
      return conditionOf(object?.status, ConditionType.Ready)?.reason === Reason.Deleting
        ? object
        : undefined;
    });
    t.deepEqual(deleting.metadata.finalizers, ['cacheplane.dev/cleanup']);
    // The entry and the shared credentials go first; the ACL user waits for Redis.
    t.is((await readConfigMapData(world.kube))?.['orders.json'], undefined);
    t.is((await readSharedCredentials(world.kube))?.['orders.password'], undefined);
    t.like(conditionOf(deleting.status, ConditionType.RedisACLReady), {
      status: 'False',
      reason: Reason.RedisUnavailable,
    });
    t.regex(
      conditionOf(deleting.status, ConditionType.Ready)?.message ?? '',
      /cannot remove ACL user cacheplane\.team-a\.orders/,
    );
    // Still held a few retries later.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    t.truthy(await getCacheNamespace(world.kube, 'team-a', 'orders'));
    // A restarted Redis without an ACL file has lost every user, the operator's too: its
    // administrator recreates the operator's user; the operator then finishes the cleanup.
    await redis.restart();
    await createOperatorRedisUser(world.redisNodes, 'standalone', world.operatorRedisPassword);
    await waitGone(world.kube, 'team-a', 'orders', 15_000);
    t.is((await readConfigMapData(world.kube))?.['orders.json'], undefined);
  },
);

test.serial(
  'two objects claiming one cache namespace: the older holds it, the younger reports NamespaceConflict',
  async (t) => {
    const { world } = ctx(t);
    await createCacheNamespace(world.kube, 'team-a', 'shared', SPEC);
    await waitReady(world.kube, 'team-a', 'shared');
    await createCacheNamespace(world.kube, 'team-b', 'shared', SPEC);
    const loser = await waitFor('NamespaceConflict', async () => {
      const object = await getCacheNamespace(world.kube, 'team-b', 'shared');
      return conditionOf(object?.status, ConditionType.Ready)?.reason === Reason.NamespaceConflict
        ? object
        : undefined;
    });
    t.regex(conditionOf(loser.status, ConditionType.Ready)?.message ?? '', /held by team-a\/shared/);
    const states = await aclUserOnEveryNode(world, 'cacheplane.team-b.shared');
    t.deepEqual([...states.values()], [undefined], 'nothing created for the loser');
    await t.throwsAsync(
      world.kube.core.readNamespacedSecret({ namespace: 'team-b', name: 'shared-redis-acl' }),
    );
    const holder = await secretValues(world, 'team-a', 'shared-redis-acl');
    t.like(await readSharedCredentials(world.kube), {
      'shared.username': 'cacheplane.team-a.shared',
      'shared.password': holder.values['password'],
    });
    // The holder goes: the other takes the name, and the shared keys with it.
    await deleteCacheNamespace(world.kube, 'team-a', 'shared');
    await waitReady(world.kube, 'team-b', 'shared');
    const entry = ConfigEntrySchema.parse(
      JSON.parse((await readConfigMapData(world.kube))?.['shared.json'] ?? 'null'),
    );
    t.is(entry.owner.kubernetesNamespace, 'team-b');
    const taker = await secretValues(world, 'team-b', 'shared-redis-acl');
    const shared = await readSharedCredentials(world.kube);
    t.like(shared, {
      'shared.username': 'cacheplane.team-b.shared',
      'shared.password': taker.values['password'],
    });
    await asRedisUser(world, shared?.['shared.username'], shared?.['shared.password'], async (client) => {
      t.is(await client.ping(), 'PONG');
    });
  },
);

test.serial('/healthz, /readyz and /metrics', async (t) => {
  const { operator } = ctx(t);
  const base = `http://127.0.0.1:${operator.httpPort}`;
  t.is((await fetch(`${base}/healthz`)).status, 200);
  t.is((await fetch(`${base}/readyz`)).status, 200);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.regex(metrics, /cacheplane_operator_reconcile_total\{result="done"\} [1-9]/);
  t.regex(metrics, /cacheplane_operator_reconcile_duration_seconds_count [1-9]/);
  t.regex(metrics, /cacheplane_operator_queue_depth \d/);
  t.regex(metrics, /cacheplane_operator_leader 1/);
});
