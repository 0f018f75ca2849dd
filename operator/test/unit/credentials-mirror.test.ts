import test from 'ava';
import { ApiError } from '../../src/controller/cluster-api.ts';
import { CredentialsMirror } from '../../src/controller/credentials-mirror.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../src/desired/desired-state.ts';
import { FakeCluster } from '../support/fakes.ts';

const LOCATION = { namespace: 'cacheplane-system', name: 'cacheplane-namespace-credentials' };
const KEY = `${LOCATION.namespace}/${LOCATION.name}`;

function credentials(cacheNamespace: string) {
  return {
    usernameKey: `${cacheNamespace}.username`,
    passwordKey: `${cacheNamespace}.password`,
    username: `cacheplane.team-a.${cacheNamespace}`,
  };
}

test('created when missing: labelled as the operator’s, no owner references', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  t.is(await mirror.write(credentials('orders'), 'p1'), 'written');
  const secret = cluster.secrets.get(KEY);
  t.deepEqual(secret?.values, { 'orders.username': 'cacheplane.team-a.orders', 'orders.password': 'p1' });
  t.deepEqual(secret?.labels, { [MANAGED_BY_LABEL]: MANAGED_BY });
  t.deepEqual(secret?.ownerReferences, []);
  t.true(mirror.holds(credentials('orders'), 'p1'));
  t.false(mirror.holds(credentials('orders'), 'p2'));
});

test('concurrent writes are coalesced into few writes, each settled', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  const outcomes = await Promise.all(
    Array.from({ length: 50 }, (_, i) => mirror.write(credentials(`ns${i}`), `p${i}`)),
  );
  t.true(outcomes.every((outcome) => outcome === 'written'));
  t.is(Object.keys(cluster.secrets.get(KEY)?.values ?? {}).length, 100);
  t.deepEqual(cluster.writes, [`createSecret ${KEY}`, `replaceSecret ${KEY}`]);
});

test('unchanged credentials are not written', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  await mirror.write(credentials('orders'), 'p1');
  const writes = cluster.writes.length;
  t.is(await mirror.write(credentials('orders'), 'p1'), 'unchanged');
  t.is(cluster.writes.length, writes);
});

test('a 409 re-reads the Secret and applies the change to it, keeping what others wrote', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  await mirror.write(credentials('orders'), 'p1');
  // Someone else writes; the mirror does not know yet (no informer event delivered).
  cluster.editSecret(LOCATION.namespace, LOCATION.name, (secret) => {
    secret.values['theirs'] = 'x';
    secret.annotations = { note: 'kept' };
  });
  t.is(await mirror.write(credentials('payments'), 'p2'), 'written');
  const secret = cluster.secrets.get(KEY);
  t.deepEqual(Object.keys(secret?.values ?? {}).sort(), [
    'orders.password',
    'orders.username',
    'payments.password',
    'payments.username',
    'theirs',
  ]);
  t.deepEqual(secret?.annotations, { note: 'kept' });
});

test('a Secret that lost the operator’s label is labelled again, its keys kept', async (t) => {
  const cluster = new FakeCluster();
  cluster.secrets.set(KEY, {
    ...LOCATION,
    resourceVersion: '7',
    labels: { team: 'platform' },
    ownerReferences: [],
    values: { 'orders.username': 'cacheplane.team-a.orders', 'orders.password': 'p1' },
  });
  const mirror = new CredentialsMirror(cluster, LOCATION);
  t.false(mirror.holds(credentials('orders'), 'p1'), 'not cached: not labelled');
  await mirror.write(credentials('orders'), 'p1');
  t.deepEqual(cluster.secrets.get(KEY)?.labels, { team: 'platform', [MANAGED_BY_LABEL]: MANAGED_BY });
  t.true(mirror.holds(credentials('orders'), 'p1'));
});

test('remove takes out both keys of the namespace, and nothing else', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  await mirror.write(credentials('orders'), 'p1');
  await mirror.write(credentials('payments'), 'p2');
  t.is(await mirror.remove(credentials('orders')), 'removed');
  t.deepEqual(Object.keys(cluster.secrets.get(KEY)?.values ?? {}).sort(), [
    'payments.password',
    'payments.username',
  ]);
  t.is(await mirror.remove(credentials('orders')), 'absent');
});

test('removing from a missing Secret creates nothing', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  t.is(await mirror.remove(credentials('orders')), 'absent');
  t.is(cluster.secrets.size, 0);
  t.deepEqual(cluster.writes, []);
});

test('errors other than 409/404 reject the batch; the next write reads afresh', async (t) => {
  const cluster = new FakeCluster();
  const mirror = new CredentialsMirror(cluster, LOCATION);
  cluster.failNext('readSecret', new ApiError(403, 'forbidden', 'Forbidden'));
  await t.throwsAsync(mirror.write(credentials('orders'), 'p1'), { message: 'forbidden' });
  t.is(await mirror.write(credentials('orders'), 'p1'), 'written');
});
