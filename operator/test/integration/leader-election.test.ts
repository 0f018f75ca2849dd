// Operator processes (`node operator/src/main.ts`, as in a pod, with the ServiceAccount of
// operator/rbac/) against a real kube-apiserver and real Redis: exactly one leader; failover when
// the leader is SIGKILLed (the other takes over once the Lease expires); a restart that loses and
// duplicates nothing. Lease timings are short here: 3 s lease, 2 s renew deadline, 250 ms retry.
import test from 'ava';
import { CoordinationV1Api, EventsV1Api } from '@kubernetes/client-node';
import { ConfigEntrySchema } from '../../src/desired/config-entry.ts';
import { startOperatorProcess, type OperatorProcess } from '../support/operator-process.ts';
import {
  OPERATOR_NAMESPACE,
  OPERATOR_REDIS_USER,
  SPEC,
  aclUserOnEveryNode,
  createCacheNamespace,
  deleteCacheNamespace,
  getCacheNamespace,
  readConfigMapData,
  startWorld,
  updateSpec,
  waitFor,
  waitGone,
  waitReady,
  type World,
} from '../support/operator-world.ts';

interface Context {
  world: World;
  processes: OperatorProcess[];
}

const LEASE_DURATION_MS = 3000;

test.before(async (t) => {
  t.context = { world: await startWorld('standalone'), processes: [] };
});

test.after.always(async (t) => {
  const context = t.context as Partial<Context>;
  await Promise.all((context.processes ?? []).map((process) => process.kill()));
  await context.world?.stop();
});

function ctx(t: { context: unknown }): Context {
  return t.context as Context;
}

async function start(t: { context: unknown }, identity: string): Promise<OperatorProcess> {
  const { world, processes } = ctx(t);
  const process = await startOperatorProcess(identity, {
    KUBECONFIG: world.operatorKubeconfig,
    OPERATOR_REDIS_ADDRESSES: world.redisNodes.join(','),
    OPERATOR_REDIS_USERNAME: OPERATOR_REDIS_USER,
    OPERATOR_REDIS_PASSWORD: world.operatorRedisPassword,
    OPERATOR_LEASE_NAMESPACE: OPERATOR_NAMESPACE,
    OPERATOR_LEASE_DURATION: `${LEASE_DURATION_MS}ms`,
    OPERATOR_LEASE_RENEW_DEADLINE: '2s',
    OPERATOR_LEASE_RETRY_PERIOD: '250ms',
    OPERATOR_BACKOFF_MAX: '2s',
    LOG_LEVEL: 'info',
  });
  processes.push(process);
  return process;
}

async function holder(world: World): Promise<string | undefined> {
  const api = world.kube.kubeConfig.makeApiClient(CoordinationV1Api);
  try {
    const lease = await api.readNamespacedLease({
      namespace: OPERATOR_NAMESPACE,
      name: 'cacheplane-operator',
    });
    return lease.spec?.holderIdentity || undefined;
  } catch {
    return undefined;
  }
}

async function reconciles(process: OperatorProcess): Promise<number> {
  const text = await process.metrics();
  return [...text.matchAll(/^cacheplane_operator_reconcile_total\{result="\w+"\} (\d+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

async function eventReasons(world: World, namespace: string, name: string): Promise<string[]> {
  const events = await world.kube.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
  return events.items.filter((event) => event.regarding?.name === name).map((event) => event.reason ?? '');
}

test.serial('two operator processes: exactly one leads, and only it reconciles', async (t) => {
  const { world } = ctx(t);
  const [a, b] = await Promise.all([start(t, 'operator-a'), start(t, 'operator-b')]);
  const leader = await waitFor('a Lease holder', () => holder(world));
  t.true(leader === 'operator-a' || leader === 'operator-b');
  const [leading, standby] = leader === 'operator-a' ? [a, b] : [b, a];
  await waitFor('the leader gauge', async () => (await leading.metric('cacheplane_operator_leader')) === 1);
  // Still the same leader after more than a lease duration of renewals.
  await new Promise((resolve) => setTimeout(resolve, LEASE_DURATION_MS + 500));
  t.is(await holder(world), leader);
  t.is(await standby.metric('cacheplane_operator_leader'), 0);
  t.is(await leading.metric('cacheplane_operator_leader'), 1);

  await createCacheNamespace(world.kube, 'team-a', 'first', SPEC);
  await waitReady(world.kube, 'team-a', 'first');
  t.true((await reconciles(leading)) > 0);
  t.is(await reconciles(standby), 0, 'the standby ran no reconcile');
  t.is(
    (await fetch(`http://127.0.0.1:${standby.httpPort}/readyz`)).status,
    200,
    'a standby is ready (warm caches)',
  );
});

test.serial(
  'failover: the leader is SIGKILLed, the other takes over once the Lease expires, and reconciles',
  async (t) => {
    const { world, processes } = ctx(t);
    const leaderId = await holder(world);
    const leader = processes.find((process) => process.identity === leaderId);
    const other = processes.find((process) => process.identity !== leaderId && !process.exited);
    if (leader === undefined || other === undefined) throw new Error('expected a leader and a standby');
    const killedAt = Date.now();
    await leader.kill();
    await waitFor(
      'the standby to hold the Lease',
      async () => (await holder(world)) === other.identity,
      15_000,
      20,
    );
    const takeover = Date.now() - killedAt;
    t.log(`takeover ${takeover} ms after SIGKILL (lease ${LEASE_DURATION_MS} ms)`);
    // It waits for the lease to run out from its last sight of a renewal (up to a renew interval before the kill).
    t.true(takeover >= LEASE_DURATION_MS - 1500, `took over after ${takeover} ms`);
    t.true(takeover < LEASE_DURATION_MS + 3000, `took over after ${takeover} ms`);
    await waitFor('the leader gauge', async () => (await other.metric('cacheplane_operator_leader')) === 1);

    await createCacheNamespace(world.kube, 'team-a', 'after-failover', SPEC);
    const ready = await waitReady(world.kube, 'team-a', 'after-failover');
    t.is(ready.status?.aclUser, 'cacheplane.team-a.after-failover');
    t.truthy(
      (await aclUserOnEveryNode(world, 'cacheplane.team-a.after-failover')).get(
        world.redisNodes[0] as string,
      ),
    );
  },
);

test.serial(
  'restart: what changed while no operator ran is reconciled on start, nothing done twice',
  async (t) => {
    const { world, processes } = ctx(t);
    const running = processes.filter((process) => !process.exited);
    const codes = await Promise.all(running.map((process) => process.stop()));
    t.deepEqual(
      codes,
      running.map(() => 0),
      'SIGTERM: a clean exit',
    );
    t.is(await holder(world), undefined, 'the Lease was released');
    const passwordBefore = (
      await world.kube.core.readNamespacedSecret({ namespace: 'team-a', name: 'first-redis-acl' })
    ).data?.['password'];

    // While down: new objects, a spec change, a deletion (held by the finalizer).
    const names = ['down-1', 'down-2', 'down-3', 'down-4', 'down-5'];
    await Promise.all(names.map((name) => createCacheNamespace(world.kube, 'team-b', name, SPEC)));
    await updateSpec(world.kube, 'team-a', 'first', (spec) => ({ ...spec, maxTTL: '3h' }));
    await deleteCacheNamespace(world.kube, 'team-a', 'after-failover');
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.truthy(await getCacheNamespace(world.kube, 'team-a', 'after-failover'), 'held by the finalizer');

    const startedAt = Date.now();
    const restarted = await start(t, 'operator-c');
    await Promise.all(names.map((name) => waitReady(world.kube, 'team-b', name)));
    await waitGone(world.kube, 'team-a', 'after-failover');
    const first = await waitFor('generation 2 of first', async () => {
      const object = await getCacheNamespace(world.kube, 'team-a', 'first');
      return object?.status?.observedGeneration === 2 ? object : undefined;
    });
    t.log(`caught up ${Date.now() - startedAt} ms after the new process was spawned`);
    t.is(first.metadata.generation, 2);
    t.is(await holder(world), restarted.identity);

    // Nothing lost.
    const data = await readConfigMapData(world.kube);
    for (const name of names) t.truthy(data?.[`${name}.json`], name);
    t.is(ConfigEntrySchema.parse(JSON.parse(data?.['first.json'] ?? 'null')).limits.maxTtlMs, 3 * 3_600_000);
    t.is(data?.['after-failover.json'], undefined);
    t.deepEqual(
      [...(await aclUserOnEveryNode(world, 'cacheplane.team-a.after-failover')).values()],
      [undefined],
    );
    // Nothing done twice: one creation per object, credentials kept, no repair of what was right.
    for (const name of names) {
      const reasons = await eventReasons(world, 'team-b', name);
      t.is(reasons.filter((reason) => reason === 'AclUserCreated').length, 1, `${name}: ${reasons.join()}`);
      t.is(
        reasons.filter((reason) => reason === 'CredentialsCreated').length,
        1,
        `${name}: ${reasons.join()}`,
      );
    }
    const firstReasons = await eventReasons(world, 'team-a', 'first');
    t.is(firstReasons.filter((reason) => reason === 'AclUserCreated').length, 1, firstReasons.join());
    t.false(firstReasons.includes('AclDriftRepaired'), firstReasons.join());
    t.false(firstReasons.includes('CredentialsReplaced'), firstReasons.join());
    const passwordAfter = (
      await world.kube.core.readNamespacedSecret({ namespace: 'team-a', name: 'first-redis-acl' })
    ).data?.['password'];
    t.is(passwordAfter, passwordBefore);
  },
);
