// reconcile(key) against fakes of the operator's own interfaces (test/support/fakes.ts). The same
// behaviours run against a real kube-apiserver and real Redis in test/integration/operator.test.ts.
import test from 'ava';
import { ConditionType, Reason, type Condition } from '../../src/api/types.ts';
import { ApiError } from '../../src/controller/cluster-api.ts';
import { ConfigPublisher, entryOwner } from '../../src/controller/config-publisher.ts';
import { CredentialsMirror } from '../../src/controller/credentials-mirror.ts';
import { FINALIZER } from '../../src/controller/objects.ts';
import { reconcile, type ReconcileDeps } from '../../src/controller/reconcile.ts';
import { ConfigEntrySchema } from '../../src/desired/config-entry.ts';
import { DEFAULT_SETTINGS, MANAGED_BY, MANAGED_BY_LABEL } from '../../src/desired/desired-state.ts';
import { passwordHash } from '../../src/redis/acl-rules.ts';
import { FakeCluster, FakeRedisAcl, RecordingEvents } from '../support/fakes.ts';

const SPEC = { access: [{ subjects: ['orders-api'], verbs: ['get', 'set'] }] };
const SHARED = 'cacheplane-system/cacheplane-namespace-credentials';

interface World extends ReconcileDeps {
  cluster: FakeCluster;
  redis: FakeRedisAcl;
  events: RecordingEvents;
  passwords: string[];
}

/** `journal`: Redis calls go into the cluster's `writes`, so that the two can be ordered. */
function world(options: { journal?: boolean } = {}): World {
  const cluster = new FakeCluster();
  const passwords: string[] = [];
  let counter = 0;
  return {
    cluster,
    redis: new FakeRedisAcl(undefined, options.journal === true ? cluster.writes : []),
    config: new ConfigPublisher(cluster),
    mirror: new CredentialsMirror(cluster, DEFAULT_SETTINGS.dataPlaneCredentials),
    events: new RecordingEvents(),
    settings: DEFAULT_SETTINGS,
    now: () => new Date('2025-03-01T12:00:00Z'),
    generatePassword: () => {
      counter += 1;
      const password = `p${String(counter).padStart(42, '0')}`;
      passwords.push(password);
      return password;
    },
    passwords,
  };
}

function ownerOf(w: World, key: string) {
  return entryOwner(w.cluster.getConfigMap()?.data[key]);
}

/** The data plane's shared credentials Secret's values. */
function shared(w: World): Record<string, string> | undefined {
  return w.cluster.secrets.get(SHARED)?.values;
}

function condition(w: World, key: string, type: string): Condition | undefined {
  const [namespace = '', name = ''] = key.split('/');
  return w.cluster.get(namespace, name)?.status?.conditions?.find((c) => c.type === type);
}

test('a new object: finalizer, Secret, ACL user on every node, shared credentials, config entry, status Ready', async (t) => {
  const w = world({ journal: true });
  const object = w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });

  const stored = w.cluster.get('team-a', 'orders');
  t.deepEqual(stored?.metadata.finalizers, [FINALIZER]);

  const secret = w.cluster.secrets.get('team-a/orders-redis-acl');
  t.is(secret?.values['username'], 'cacheplane.team-a.orders');
  t.is(secret?.values['password'], w.passwords[0]);
  t.is(secret?.labels[MANAGED_BY_LABEL], MANAGED_BY);
  t.deepEqual(secret?.ownerReferences, [
    {
      apiVersion: 'cacheplane.dev/v1alpha1',
      kind: 'CacheNamespace',
      name: 'orders',
      uid: object.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);

  for (const node of w.redis.nodes) {
    const user = w.redis.user(node, 'cacheplane.team-a.orders');
    t.deepEqual(user?.passwordHashes, [passwordHash(w.passwords[0] as string)]);
    t.deepEqual(user?.keyRules, ['~orders:*']);
  }

  const sharedSecret = w.cluster.secrets.get(SHARED);
  t.deepEqual(sharedSecret?.values, {
    'orders.username': 'cacheplane.team-a.orders',
    'orders.password': w.passwords[0],
  });
  t.deepEqual(sharedSecret?.labels, { [MANAGED_BY_LABEL]: MANAGED_BY });
  t.deepEqual(sharedSecret?.ownerReferences, []);

  const entry = ConfigEntrySchema.parse(JSON.parse(w.cluster.configMap?.data['orders.json'] ?? '{}'));
  t.is(entry.owner.uid, object.metadata.uid);
  t.is(entry.redis.aclUser, 'cacheplane.team-a.orders');
  t.deepEqual(entry.redis.credentials, {
    secretNamespace: 'cacheplane-system',
    secretName: 'cacheplane-namespace-credentials',
    usernameKey: 'orders.username',
    passwordKey: 'orders.password',
  });

  // The namespace's Secret, then Redis, then the shared credentials, then the entry.
  const order = [
    'createSecret team-a/orders-redis-acl',
    'apply cacheplane.team-a.orders',
    `createSecret ${SHARED}`,
    'createConfigMap',
  ].map((step) => w.cluster.writes.indexOf(step));
  t.true(
    order.every((index, i) => index >= 0 && (i === 0 || index > (order[i - 1] ?? 0))),
    w.cluster.writes.join(),
  );

  const status = stored?.status;
  t.is(status?.observedGeneration, 1);
  t.is(status?.cacheNamespace, 'orders');
  t.is(status?.aclUser, 'cacheplane.team-a.orders');
  t.is(status?.credentialsSecret, 'orders-redis-acl');
  t.deepEqual(
    status?.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration, c.lastTransitionTime]),
    [
      [ConditionType.RedisACLReady, 'True', Reason.Reconciled, 1, '2025-03-01T12:00:00Z'],
      [ConditionType.ConfigPublished, 'True', Reason.Reconciled, 1, '2025-03-01T12:00:00Z'],
      [ConditionType.Ready, 'True', Reason.Reconciled, 1, '2025-03-01T12:00:00Z'],
    ],
  );
  t.deepEqual(w.events.reasons(), ['CredentialsCreated', 'AclUserCreated', 'ConfigPublished']);
  // One status write, one finalizer write.
  t.deepEqual(
    w.cluster.writes.filter((write) => write.includes('CacheNamespace')),
    ['replaceCacheNamespace team-a/orders', 'replaceCacheNamespaceStatus team-a/orders'],
  );
});

test('a second pass over a reconciled object writes nothing and applies no ACL', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const writes = w.cluster.writes.length;
  const events = w.events.events.length;
  w.redis.calls.length = 0;
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.deepEqual(w.cluster.writes.slice(writes), []);
  t.is(w.events.events.length, events);
  t.deepEqual(w.redis.calls, ['inspect cacheplane.team-a.orders']);
});

test('a gone object is done', async (t) => {
  const w = world();
  t.deepEqual(await reconcile('team-a/nothing', w), { result: 'done' });
  t.deepEqual(w.cluster.writes, []);
});

test('an invalid spec: status InvalidSpec with each problem, no finalizer, nothing created, no retry', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', { maxTTL: '1h', defaultTTL: '2h', access: [] });
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  const ready = condition(w, 'team-a/orders', ConditionType.Ready);
  t.is(ready?.status, 'False');
  t.is(ready?.reason, Reason.InvalidSpec);
  t.regex(ready?.message ?? '', /spec\.access: /);
  t.regex(ready?.message ?? '', /defaultTTL must not exceed maxTTL/);
  t.is(w.cluster.get('team-a', 'orders')?.metadata.finalizers, undefined);
  t.is(w.cluster.secrets.size, 0);
  t.deepEqual(w.redis.calls, []);
  t.is(w.cluster.configMap, undefined);
});

test('a spec change: new config entry, observedGeneration follows, lastTransitionTime kept', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const before = w.cluster.configMap?.data['orders.json'];
  w.now = () => new Date('2025-03-02T00:00:00Z');
  w.cluster.updateSpec('team-a', 'orders', { ...SPEC, maxTTL: '2h', defaultTTL: '1h' });
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  const after = ConfigEntrySchema.parse(JSON.parse(w.cluster.configMap?.data['orders.json'] ?? '{}'));
  t.not(w.cluster.configMap?.data['orders.json'], before);
  t.is(after.limits.maxTtlMs, 7_200_000);
  t.is(after.owner.generation, 2);
  const status = w.cluster.get('team-a', 'orders')?.status;
  t.is(status?.observedGeneration, 2);
  const ready = status?.conditions?.find((c) => c.type === ConditionType.Ready);
  t.is(ready?.observedGeneration, 2);
  t.is(ready?.lastTransitionTime, '2025-03-01T12:00:00Z');
});

test('drift on one node is repaired there, reported by node, with an event', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const node = w.redis.nodes[1] as string;
  const user = w.redis.user(node, 'cacheplane.team-a.orders');
  user?.commandRules.push('+keys');
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.false(w.redis.user(node, 'cacheplane.team-a.orders')?.commandRules.includes('+keys'));
  const acl = condition(w, 'team-a/orders', ConditionType.RedisACLReady);
  t.is(acl?.status, 'True');
  t.is(acl?.reason, Reason.AclDriftRepaired);
  t.true(acl?.message.includes(node));
  const event = w.events.events.find((e) => e.reason === 'AclDriftRepaired');
  t.regex(event?.note ?? '', /1 Redis node of 3: 10\.0\.0\.2:6379 \(extra command rule\(s\): \+keys\)/);
  // Next pass: in sync again, the reason returns to Reconciled.
  await reconcile('team-a/orders', w);
  t.is(condition(w, 'team-a/orders', ConditionType.RedisACLReady)?.reason, Reason.Reconciled);
});

test('Redis down on a new object: nothing reaches the data plane until the ACL user works', async (t) => {
  const w = world();
  w.redis.down.add(w.redis.nodes[2] as string);
  w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  const acl = condition(w, 'team-a/orders', ConditionType.RedisACLReady);
  t.is(acl?.status, 'False');
  t.is(acl?.reason, Reason.RedisUnavailable);
  t.regex(acl?.message ?? '', /10\.0\.0\.3:6379/);
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.reason, Reason.RedisUnavailable);
  const published = condition(w, 'team-a/orders', ConditionType.ConfigPublished);
  t.like(published, { status: 'False', reason: Reason.RedisUnavailable });
  t.regex(published?.message ?? '', /waiting for ACL user cacheplane\.team-a\.orders/);
  t.is(shared(w), undefined, 'no credentials mirrored');
  t.is(w.cluster.configMap, undefined, 'no entry published');
  w.redis.down.clear();
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.status, 'True');
  t.is(shared(w)?.['orders.password'], w.passwords[0]);
  t.truthy(w.cluster.configMap?.data['orders.json']);
});

test('Redis down on a published object: a spec change still reaches the entry (its credentials are mirrored)', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  w.redis.down.add(w.redis.nodes[0] as string);
  w.cluster.updateSpec('team-a', 'orders', { ...SPEC, maxTTL: '2h', defaultTTL: '1h' });
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  const entry = ConfigEntrySchema.parse(JSON.parse(w.cluster.configMap?.data['orders.json'] ?? '{}'));
  t.is(entry.owner.generation, 2);
  t.is(condition(w, 'team-a/orders', ConditionType.ConfigPublished)?.status, 'True');
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.reason, Reason.RedisUnavailable);
});

test('deletion: entry removed, then shared credentials, then the ACL user on every node; finalizer released', async (t) => {
  const w = world({ journal: true });
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.create('team-a', 'payments', SPEC);
  await reconcile('team-a/orders', w);
  await reconcile('team-a/payments', w);
  w.cluster.delete('team-a', 'orders');
  const before = w.cluster.writes.length;
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  for (const node of w.redis.nodes) t.is(w.redis.user(node, 'cacheplane.team-a.orders'), undefined);
  t.false('orders.json' in (w.cluster.configMap?.data ?? {}));
  t.deepEqual(Object.keys(shared(w) ?? {}).sort(), ['payments.password', 'payments.username']);
  t.is(w.cluster.get('team-a', 'orders'), undefined);
  t.true(w.events.reasons().includes('AclUserRemoved'));
  t.true(w.events.reasons().includes('ConfigRemoved'));
  t.deepEqual(w.cluster.writes.slice(before), [
    'replaceConfigMap',
    `replaceSecret ${SHARED}`,
    'remove cacheplane.team-a.orders',
    'replaceCacheNamespace team-a/orders',
  ]);
  // Idempotent: a pass over what is already clean changes nothing.
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
});

test('deletion: while the entry cannot be removed, the credentials and the ACL user stay', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  w.cluster.delete('team-a', 'orders');
  w.config.observed(undefined);
  w.cluster.failNext('readConfigMap', new ApiError(403, 'forbidden', 'Forbidden'));
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  t.truthy(w.cluster.configMap?.data['orders.json']);
  t.truthy(shared(w)?.['orders.password']);
  for (const node of w.redis.nodes) t.truthy(w.redis.user(node, 'cacheplane.team-a.orders'));
  t.like(condition(w, 'team-a/orders', ConditionType.ConfigPublished), {
    status: 'False',
    reason: Reason.ConfigPublishFailed,
  });
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.reason, Reason.Deleting);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.is(shared(w)?.['orders.password'], undefined);
});

test('deletion while Redis is down: the finalizer holds, status says Deleting, until Redis returns', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  w.cluster.delete('team-a', 'orders');
  for (const node of w.redis.nodes) w.redis.down.add(node);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  t.deepEqual(w.cluster.get('team-a', 'orders')?.metadata.finalizers, [FINALIZER]);
  const ready = condition(w, 'team-a/orders', ConditionType.Ready);
  t.is(ready?.reason, Reason.Deleting);
  t.regex(ready?.message ?? '', /cannot remove ACL user cacheplane\.team-a\.orders/);
  t.is(condition(w, 'team-a/orders', ConditionType.RedisACLReady)?.reason, Reason.RedisUnavailable);
  // What comes before the ACL user is gone already: the data plane stops using the namespace.
  t.false('orders.json' in (w.cluster.configMap?.data ?? {}));
  t.is(shared(w)?.['orders.username'], undefined);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  w.redis.down.clear();
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.is(w.cluster.get('team-a', 'orders'), undefined);
  for (const node of w.redis.nodes) t.is(w.redis.user(node, 'cacheplane.team-a.orders'), undefined);
});

test('deleting an object without the finalizer (never acted on) touches nothing', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  const object = w.cluster.get('team-a', 'orders');
  if (object === undefined) throw new Error('missing');
  w.cluster.objects.set('team-a/orders', {
    ...object,
    metadata: {
      ...object.metadata,
      finalizers: ['someone.else/x'],
      deletionTimestamp: '2025-06-01T00:00:00Z',
    },
  });
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.deepEqual(w.redis.calls, []);
  t.deepEqual(w.cluster.writes, []);
});

test('two claims on one cache namespace: the older holds it, the younger reports NamespaceConflict and touches nothing', async (t) => {
  const w = world();
  const older = w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.create('team-b', 'orders', SPEC);
  await reconcile('team-b/orders', w);
  await reconcile('team-a/orders', w);
  const ready = condition(w, 'team-b/orders', ConditionType.Ready);
  t.is(ready?.reason, Reason.NamespaceConflict);
  t.regex(ready?.message ?? '', /held by team-a\/orders/);
  t.is(w.cluster.secrets.has('team-b/orders-redis-acl'), false);
  t.false(w.redis.calls.includes('apply cacheplane.team-b.orders'));
  t.is(ownerOf(w, 'orders.json')?.uid, older.metadata.uid);
  t.is(w.cluster.get('team-b', 'orders')?.status?.aclUser, undefined);
  const holderCredentials = {
    'orders.username': 'cacheplane.team-a.orders',
    'orders.password': w.cluster.secrets.get('team-a/orders-redis-acl')?.values['password'],
  };
  t.deepEqual(shared(w), holderCredentials);

  // The holder goes: the other takes the name over, and the shared keys with it.
  w.cluster.delete('team-a', 'orders');
  await reconcile('team-a/orders', w);
  t.deepEqual(await reconcile('team-b/orders', w), { result: 'done' });
  t.is(condition(w, 'team-b/orders', ConditionType.Ready)?.status, 'True');
  const entry = JSON.parse(w.cluster.configMap?.data['orders.json'] ?? '{}') as {
    owner: { kubernetesNamespace: string };
  };
  t.is(entry.owner.kubernetesNamespace, 'team-b');
  t.deepEqual(shared(w), {
    'orders.username': 'cacheplane.team-b.orders',
    'orders.password': w.cluster.secrets.get('team-b/orders-redis-acl')?.values['password'],
  });
});

test('a losing claim never touches the shared credentials, not even when it is deleted', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.create('team-b', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  await reconcile('team-b/orders', w);
  const holderCredentials = structuredClone(shared(w));
  // Someone deletes the holder's username key by hand: still the holder's to repair, not the loser's.
  w.cluster.editSecret('cacheplane-system', 'cacheplane-namespace-credentials', (secret) => {
    delete secret.values['orders.username'];
  });
  w.mirror.observed(w.cluster.secrets.get(SHARED)?.resourceVersion);
  w.cluster.delete('team-b', 'orders');
  t.deepEqual(await reconcile('team-b/orders', w), { result: 'done' });
  t.is(w.cluster.get('team-b', 'orders'), undefined);
  t.is(shared(w)?.['orders.password'], holderCredentials?.['orders.password']);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.deepEqual(shared(w), holderCredentials);
});

test("the losing claim in the same Kubernetes namespace shares the user name: deleting it leaves the holder's user and shared keys", async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.create('team-a', 'orders-copy', { ...SPEC, cacheNamespace: 'orders' });
  await reconcile('team-a/orders', w);
  await reconcile('team-a/orders-copy', w);
  t.is(condition(w, 'team-a/orders-copy', ConditionType.Ready)?.reason, Reason.NamespaceConflict);
  const sharedBefore = structuredClone(shared(w));
  w.cluster.delete('team-a', 'orders-copy');
  t.deepEqual(await reconcile('team-a/orders-copy', w), { result: 'done' });
  t.is(w.cluster.get('team-a', 'orders-copy'), undefined);
  for (const node of w.redis.nodes) t.truthy(w.redis.user(node, 'cacheplane.team-a.orders'));
  t.truthy(w.cluster.configMap?.data['orders.json']);
  t.deepEqual(shared(w), sharedBefore);
});

test("a stale entry of a deleted object is replaced; a live holder's entry is not", async (t) => {
  const w = world();
  w.cluster.configMap = {
    resourceVersion: '1',
    data: {
      'orders.json': JSON.stringify({ owner: { uid: 'gone', kubernetesNamespace: 'old', name: 'orders' } }),
    },
  };
  const object = w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.is(ownerOf(w, 'orders.json')?.uid, object.metadata.uid);
});

test('a Secret with an unusable password gets a new one: Redis follows, then the shared credentials', async (t) => {
  const w = world({ journal: true });
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const secret = w.cluster.secrets.get('team-a/orders-redis-acl');
  if (secret === undefined) throw new Error('no secret');
  secret.values['password'] = 'short';
  const before = w.cluster.writes.length;
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  const password = w.cluster.secrets.get('team-a/orders-redis-acl')?.values['password'];
  t.is(password, w.passwords[1]);
  for (const node of w.redis.nodes) {
    t.deepEqual(w.redis.user(node, 'cacheplane.team-a.orders')?.passwordHashes, [
      passwordHash(password ?? ''),
    ]);
  }
  t.is(shared(w)?.['orders.password'], password);
  t.deepEqual(
    w.cluster.writes.slice(before).filter((write) => !write.startsWith('inspect')),
    [
      'replaceSecret team-a/orders-redis-acl',
      'apply cacheplane.team-a.orders',
      `replaceSecret ${SHARED}`,
      'replaceCacheNamespaceStatus team-a/orders',
    ],
  );
  t.true(w.events.reasons().includes('CredentialsReplaced'));
});

test('a new password that Redis does not take yet is not mirrored: the data plane keeps the working one', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const working = shared(w)?.['orders.password'];
  const secret = w.cluster.secrets.get('team-a/orders-redis-acl');
  if (secret === undefined) throw new Error('no secret');
  secret.values['password'] = 'short';
  w.redis.down.add(w.redis.nodes[1] as string);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  t.is(shared(w)?.['orders.password'], working);
  t.like(condition(w, 'team-a/orders', ConditionType.ConfigPublished), {
    status: 'False',
    reason: Reason.RedisUnavailable,
  });
  w.redis.down.clear();
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.is(shared(w)?.['orders.password'], w.passwords[1]);
});

test('a Secret of the same name that belongs to someone else is left alone: SecretConflict, retried', async (t) => {
  const w = world();
  w.cluster.secrets.set('team-a/orders-redis-acl', {
    namespace: 'team-a',
    name: 'orders-redis-acl',
    resourceVersion: '5',
    labels: {},
    ownerReferences: [],
    values: { password: 'theirs' },
  });
  w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  t.is(w.cluster.secrets.get('team-a/orders-redis-acl')?.values['password'], 'theirs');
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.reason, Reason.SecretConflict);
  t.false(w.redis.calls.some((call) => call.startsWith('apply')));
});

test('a Secret left by a former object of the same name is taken back', async (t) => {
  const w = world();
  const password = 'q'.repeat(43);
  w.cluster.secrets.set('team-a/orders-redis-acl', {
    namespace: 'team-a',
    name: 'orders-redis-acl',
    resourceVersion: '5',
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
    ownerReferences: [
      {
        apiVersion: 'cacheplane.dev/v1alpha1',
        kind: 'CacheNamespace',
        name: 'orders',
        uid: 'old-uid',
        controller: true,
      },
    ],
    values: { username: 'cacheplane.team-a.orders', password },
  });
  const object = w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  const secret = w.cluster.secrets.get('team-a/orders-redis-acl');
  t.is(secret?.ownerReferences[0]?.uid, object.metadata.uid);
  t.is(secret?.values['password'], password, 'a usable password is kept');
});

test('a 409 on the status write requeues (the cache was behind)', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.failNext('replaceCacheNamespaceStatus', new ApiError(409, 'modified', 'Conflict'));
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.status, 'True');
});

test('other API errors propagate (the queue retries them with backoff)', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.failNext('createSecret', new ApiError(403, 'forbidden', 'Forbidden'));
  await t.throwsAsync(reconcile('team-a/orders', w), { message: 'forbidden' });
});

test('the ConfigMap is created when missing; a missing namespace is ConfigPublishFailed', async (t) => {
  const w = world();
  w.cluster.configMapNamespaceExists = false;
  w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  const published = condition(w, 'team-a/orders', ConditionType.ConfigPublished);
  t.is(published?.reason, Reason.ConfigPublishFailed);
  t.regex(published?.message ?? '', /namespaces "cacheplane-system" not found/);
  t.is(condition(w, 'team-a/orders', ConditionType.RedisACLReady)?.status, 'True');
  w.cluster.configMapNamespaceExists = true;
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.truthy(w.cluster.configMap?.data['orders.json']);
});

test('an entry removed by hand is published again', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  w.cluster.editConfigMap((data) => delete data['orders.json']);
  w.config.observed(w.cluster.configMap);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.truthy(w.cluster.configMap?.data['orders.json']);
});

test('shared credentials edited or deleted by hand are repaired; keys of others are kept', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const expected = structuredClone(shared(w));
  w.cluster.editSecret('cacheplane-system', 'cacheplane-namespace-credentials', (secret) => {
    delete secret.values['orders.password'];
    secret.values['orders.username'] = 'someone-else';
    secret.values['theirs'] = 'x';
  });
  w.mirror.observed(w.cluster.secrets.get(SHARED)?.resourceVersion);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.deepEqual(shared(w), { ...expected, theirs: 'x' });

  w.cluster.secrets.delete(SHARED);
  w.mirror.observed(undefined);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.deepEqual(shared(w), expected);
});

test('the shared Secret cannot be written: ConfigPublishFailed, no entry, retried', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.failNext('readSecret', new ApiError(403, 'secrets is forbidden', 'Forbidden'));
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  const published = condition(w, 'team-a/orders', ConditionType.ConfigPublished);
  t.like(published, { status: 'False', reason: Reason.ConfigPublishFailed });
  t.regex(
    published?.message ?? '',
    /cannot write keys orders\.username and orders\.password of Secret cacheplane-system\/cacheplane-namespace-credentials: secrets is forbidden/,
  );
  t.is(condition(w, 'team-a/orders', ConditionType.RedisACLReady)?.status, 'True');
  t.is(w.cluster.configMap, undefined);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  t.truthy(w.cluster.configMap?.data['orders.json']);
});
