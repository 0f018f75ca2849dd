// The operator against a real kube-apiserver and a real 6-node Redis Cluster (3 primaries, 3
// replicas): ACLs are per node, so "every node" is meaningful here — replicas included, and a node
// that stops answering holds the finalizer until it is back.
import test from 'ava';
import { ConditionType, Reason, parseCacheNamespace } from '../../src/api/types.ts';
import { DEFAULT_SETTINGS, desiredState } from '../../src/desired/desired-state.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startOperator, type RunningOperator } from '../../src/operator.ts';
import { aclDrift, passwordHash } from '../../src/redis/acl-rules.ts';
import { parseClusterNodes } from '../../src/redis/cluster-nodes.ts';
import { redisCli } from '../../../dataplane/test/support/redis-harness.ts';
import {
  SPEC,
  aclUserOnEveryNode,
  conditionOf,
  createCacheNamespace,
  deleteCacheNamespace,
  getCacheNamespace,
  operatorConfig,
  readConfigMapData,
  startWorld,
  waitFor,
  waitGone,
  waitReady,
  type World,
} from '../support/operator-world.ts';

interface Context {
  world: World;
  operator: RunningOperator;
}

const USER = 'cacheplane.team-a.orders';

test.before(async (t) => {
  const world = await startWorld('cluster');
  t.context = { world };
  const operator = await startOperator(
    operatorConfig(world, { resyncPeriodMs: 1500 }),
    createLogger('error'),
  );
  (t.context as Context).operator = operator;
  await waitFor('the operator to lead', () => operator.election.leading, 20_000);
});

test.after.always(async (t) => {
  const context = t.context as Partial<Context>;
  await context.operator?.stop();
  await context.world?.stop();
});

function ctx(t: { context: unknown }): Context {
  return t.context as Context;
}

async function expected(world: World) {
  const object = await getCacheNamespace(world.kube, 'team-a', 'orders');
  const parsed = parseCacheNamespace(object);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const desired = desiredState(parsed.resource, { ...DEFAULT_SETTINGS, redis: { mode: 'cluster', db: 0 } });
  const secret = await world.kube.core.readNamespacedSecret({
    namespace: 'team-a',
    name: 'orders-redis-acl',
  });
  const password = Buffer.from(secret.data?.['password'] ?? '', 'base64').toString('utf8');
  return { user: desired.aclUser, hash: passwordHash(password) };
}

async function driftByNode(world: World): Promise<Map<string, string[]>> {
  const { user, hash } = await expected(world);
  const states = await aclUserOnEveryNode(world, USER);
  return new Map([...states].map(([node, state]) => [node, aclDrift(user, hash, state)]));
}

test.serial('create: the ACL user exactly as desired on all 6 nodes, replicas included', async (t) => {
  const { world } = ctx(t);
  await createCacheNamespace(world.kube, 'team-a', 'orders', SPEC);
  const ready = await waitReady(world.kube, 'team-a', 'orders');
  t.regex(conditionOf(ready.status, ConditionType.RedisACLReady)?.message ?? '', /on 6 Redis nodes/);
  const drift = await driftByNode(world);
  t.is(drift.size, 6);
  for (const [node, problems] of drift) t.deepEqual(problems, [], node);
  t.truthy((await readConfigMapData(world.kube))?.['orders.json']);
});

test.serial(
  'drift on one node and a user lost on another (a restart without ACL file) are repaired on resync',
  async (t) => {
    const { world } = ctx(t);
    const [, changed = '', lost = ''] = world.redisNodes;
    // A resync may come between the two changes (every 1.5 s here): then the nodes are repaired, and
    // reported, in two passes. Either way each node must be repaired and named in the status.
    await redisCli(changed, 'ACL', 'SETUSER', USER, '+flushall');
    await redisCli(lost, 'ACL', 'DELUSER', USER);
    const reported = new Set<string>();
    await waitFor(
      'both nodes to be reported repaired',
      async () => {
        const object = await getCacheNamespace(world.kube, 'team-a', 'orders');
        const condition = conditionOf(object?.status, ConditionType.RedisACLReady);
        if (condition?.reason === Reason.AclDriftRepaired) {
          for (const node of [changed, lost]) if (condition.message.includes(node)) reported.add(node);
        }
        return reported.size === 2;
      },
      10_000,
      20,
    );
    const after = await driftByNode(world);
    for (const [node, problems] of after) t.deepEqual(problems, [], node);
  },
);

test.serial(
  'delete while a replica does not answer: the finalizer holds, then the user leaves all 6 nodes',
  async (t) => {
    const { world } = ctx(t);
    const cluster = world.cluster;
    if (cluster === undefined) throw new Error('cluster expected');
    const topology = parseClusterNodes(await redisCli(world.redisNodes[0] as string, 'CLUSTER', 'NODES'));
    const replica = topology.find((node) => node.role === 'replica' && node.address !== world.redisNodes[0]);
    const paused = cluster.nodes.find((node) => node.address === replica?.address);
    if (paused === undefined) throw new Error('no replica to pause');
    paused.pause();
    try {
      await deleteCacheNamespace(world.kube, 'team-a', 'orders');
      const deleting = await waitFor('status Deleting', async () => {
        const object = await getCacheNamespace(world.kube, 'team-a', 'orders');
        return conditionOf(object?.status, ConditionType.Ready)?.reason === Reason.Deleting
          ? object
          : undefined;
      });
      t.deepEqual(deleting.metadata.finalizers, ['cacheplane.dev/cleanup']);
      t.true(conditionOf(deleting.status, ConditionType.Ready)?.message.includes(paused.address));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      t.truthy(await getCacheNamespace(world.kube, 'team-a', 'orders'), 'still held');
    } finally {
      paused.resume();
    }
    await waitGone(world.kube, 'team-a', 'orders', 20_000);
    const states = await aclUserOnEveryNode(world, USER);
    t.deepEqual(
      [...states.values()],
      Array.from({ length: 6 }, () => undefined),
    );
    t.is((await readConfigMapData(world.kube))?.['orders.json'], undefined);
  },
);
