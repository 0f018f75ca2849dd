import test from 'ava';
import { ApiError } from '../../src/controller/cluster-api.ts';
import { ConfigPublisher, entryOwner } from '../../src/controller/config-publisher.ts';
import { FakeCluster } from '../support/fakes.ts';

const entry = (uid: string, extra = '') =>
  JSON.stringify({ owner: { uid, kubernetesNamespace: 'team-a', name: `obj-${uid}` }, extra });
const never = () => false;

test('concurrent publishes are coalesced into few writes, each change settled', async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  const outcomes = await Promise.all(
    Array.from({ length: 50 }, (_, i) => publisher.publish(`ns${i}.json`, entry(`u${i}`), `u${i}`, never)),
  );
  t.true(outcomes.every((o) => o.outcome === 'written'));
  t.is(Object.keys(cluster.configMap?.data ?? {}).length, 50);
  // The first change creates the ConfigMap; the 49 that arrived meanwhile go out in one more write.
  t.deepEqual(cluster.writes, ['createConfigMap', 'replaceConfigMap']);
});

test('an unchanged value is not written', async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  await publisher.publish('a.json', entry('u1'), 'u1', never);
  const writes = cluster.writes.length;
  t.deepEqual(await publisher.publish('a.json', entry('u1'), 'u1', never), { outcome: 'unchanged' });
  t.is(cluster.writes.length, writes);
});

test("a 409 re-reads the ConfigMap and recomputes the change on it, keeping the other writer's keys", async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  await publisher.publish('a.json', entry('u1'), 'u1', never);
  // Someone else writes; the publisher does not know yet (no informer event delivered).
  cluster.editConfigMap((data) => (data['theirs'] = 'x'));
  t.deepEqual(await publisher.publish('b.json', entry('u2'), 'u2', never), { outcome: 'written' });
  t.deepEqual(Object.keys(cluster.configMap?.data ?? {}).sort(), ['a.json', 'b.json', 'theirs']);
});

test('the entry of a holder that keeps the name is not overwritten; a stale one is', async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  await publisher.publish('a.json', entry('holder'), 'holder', never);
  t.deepEqual(await publisher.publish('a.json', entry('me'), 'me', (uid) => uid === 'holder'), {
    outcome: 'conflict',
    holder: 'team-a/obj-holder',
  });
  t.is(entryOwner(cluster.configMap?.data['a.json'])?.uid, 'holder');
  t.deepEqual(await publisher.publish('a.json', entry('me'), 'me', never), { outcome: 'written' });
  t.is(entryOwner(cluster.configMap?.data['a.json'])?.uid, 'me');
});

test("remove takes out only the caller's own entry", async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  await publisher.publish('a.json', entry('u1'), 'u1', never);
  t.is(await publisher.remove('a.json', 'someone-else'), 'not-ours');
  t.truthy(cluster.configMap?.data['a.json']);
  t.is(await publisher.remove('a.json', 'u1'), 'removed');
  t.is(cluster.configMap?.data['a.json'], undefined);
  t.is(await publisher.remove('a.json', 'u1'), 'absent');
});

test('errors other than 409/404 reject the whole batch', async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  cluster.failNext('readConfigMap', new ApiError(403, 'forbidden', 'Forbidden'));
  await t.throwsAsync(publisher.publish('a.json', entry('u1'), 'u1', never), { message: 'forbidden' });
  t.deepEqual(await publisher.publish('a.json', entry('u1'), 'u1', never), { outcome: 'written' });
});

test('a ConfigMap deleted meanwhile is created again', async (t) => {
  const cluster = new FakeCluster();
  const publisher = new ConfigPublisher(cluster);
  await publisher.publish('a.json', entry('u1'), 'u1', never);
  cluster.configMap = undefined;
  t.deepEqual(await publisher.publish('b.json', entry('u2'), 'u2', never), { outcome: 'written' });
  t.deepEqual(Object.keys(cluster.getConfigMap()?.data ?? {}), ['b.json']);
});
