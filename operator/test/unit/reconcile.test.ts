// reconcile(key) against fakes of the operator's own interfaces (test/support/fakes.ts). The same
// behaviours run against a real kube-apiserver and real Redis in test/integration/operator.test.ts.
import test from 'ava';
import { ConditionType, Reason, type Condition } from '../../src/api/types.ts';
import { ApiError } from '../../src/controller/cluster-api.ts';
import { ConfigPublisher, entryOwner } from '../../src/controller/config-publisher.ts';
import { FINALIZER } from '../../src/controller/objects.ts';
import { reconcile, type ReconcileDeps } from '../../src/controller/reconcile.ts';
import { ConfigEntrySchema } from '../../src/desired/config-entry.ts';
import { DEFAULT_SETTINGS, MANAGED_BY, MANAGED_BY_LABEL } from '../../src/desired/desired-state.ts';
import { passwordHash } from '../../src/redis/acl-rules.ts';
import { FakeCluster, FakeRedisAcl, RecordingEvents } from '../support/fakes.ts';

const SPEC = { access: [{ subjects: ['orders-api'], verbs: ['get', 'set'] }] };

interface World extends ReconcileDeps {
  cluster: FakeCluster;
  redis: FakeRedisAcl;
  events: RecordingEvents;
  passwords: string[];
}

function world(): World {
  const cluster = new FakeCluster();
  const passwords: string[] = [];
  let counter = 0;
  return {
    cluster,
    redis: new FakeRedisAcl(),
    config: new ConfigPublisher(cluster),
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

function condition(w: World, key: string, type: string): Condition | undefined {
  const [namespace = '', name = ''] = key.split('/');
  return w.cluster.get(namespace, name)?.status?.conditions?.find((c) => c.type === type);
}

test('a new object: finalizer, Secret, ACL user on every node, config entry, status Ready', async (t) => {
  const w = world();
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

  const entry = ConfigEntrySchema.parse(JSON.parse(w.cluster.configMap?.data['orders.json'] ?? '{}'));
  t.is(entry.owner.uid, object.metadata.uid);
  t.is(entry.redis.aclUser, 'cacheplane.team-a.orders');

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

test('Redis down: RedisACLReady and Ready False (RedisUnavailable), retried with backoff; config still published', async (t) => {
  const w = world();
  w.redis.down.add(w.redis.nodes[2] as string);
  w.cluster.create('team-a', 'orders', SPEC);
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'requeue' });
  const acl = condition(w, 'team-a/orders', ConditionType.RedisACLReady);
  t.is(acl?.status, 'False');
  t.is(acl?.reason, Reason.RedisUnavailable);
  t.regex(acl?.message ?? '', /10\.0\.0\.3:6379/);
  t.is(condition(w, 'team-a/orders', ConditionType.Ready)?.reason, Reason.RedisUnavailable);
  t.is(condition(w, 'team-a/orders', ConditionType.ConfigPublished)?.status, 'True');
  w.redis.down.clear();
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  const ready = condition(w, 'team-a/orders', ConditionType.Ready);
  t.is(ready?.status, 'True');
});

test('deletion: ACL user removed from every node, entry removed, finalizer released, object gone', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  w.cluster.delete('team-a', 'orders');
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  for (const node of w.redis.nodes) t.is(w.redis.user(node, 'cacheplane.team-a.orders'), undefined);
  t.false('orders.json' in (w.cluster.configMap?.data ?? {}));
  t.is(w.cluster.get('team-a', 'orders'), undefined);
  t.true(w.events.reasons().includes('AclUserRemoved'));
  t.true(w.events.reasons().includes('ConfigRemoved'));
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

  // The holder goes: the other takes the name over.
  w.cluster.delete('team-a', 'orders');
  await reconcile('team-a/orders', w);
  t.deepEqual(await reconcile('team-b/orders', w), { result: 'done' });
  t.is(condition(w, 'team-b/orders', ConditionType.Ready)?.status, 'True');
  const entry = JSON.parse(w.cluster.configMap?.data['orders.json'] ?? '{}') as {
    owner: { kubernetesNamespace: string };
  };
  t.is(entry.owner.kubernetesNamespace, 'team-b');
});

test("the losing claim in the same Kubernetes namespace shares the user name: deleting it leaves the holder's user", async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  w.cluster.create('team-a', 'orders-copy', { ...SPEC, cacheNamespace: 'orders' });
  await reconcile('team-a/orders', w);
  await reconcile('team-a/orders-copy', w);
  t.is(condition(w, 'team-a/orders-copy', ConditionType.Ready)?.reason, Reason.NamespaceConflict);
  w.cluster.delete('team-a', 'orders-copy');
  t.deepEqual(await reconcile('team-a/orders-copy', w), { result: 'done' });
  t.is(w.cluster.get('team-a', 'orders-copy'), undefined);
  for (const node of w.redis.nodes) t.truthy(w.redis.user(node, 'cacheplane.team-a.orders'));
  t.truthy(w.cluster.configMap?.data['orders.json']);
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

test('a Secret with an unusable password gets a new one, and Redis follows', async (t) => {
  const w = world();
  w.cluster.create('team-a', 'orders', SPEC);
  await reconcile('team-a/orders', w);
  const secret = w.cluster.secrets.get('team-a/orders-redis-acl');
  if (secret === undefined) throw new Error('no secret');
  secret.values['password'] = 'short';
  t.deepEqual(await reconcile('team-a/orders', w), { result: 'done' });
  const password = w.cluster.secrets.get('team-a/orders-redis-acl')?.values['password'];
  t.is(password, w.passwords[1]);
  for (const node of w.redis.nodes) {
    t.deepEqual(w.redis.user(node, 'cacheplane.team-a.orders')?.passwordHashes, [
      passwordHash(password ?? ''),
    ]);
  }
  t.true(w.events.reasons().includes('CredentialsReplaced'));
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
