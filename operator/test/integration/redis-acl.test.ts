// IoredisAcl against real Redis, standalone and a 6-node cluster (3 primaries, 3 replicas), with the
// operator connected as its own least-privilege user. The namespace users it creates are then
// exercised by the data plane's own RedisStore, so these tests also prove that the command list of
// desired-state.ts is exactly enough: nothing the data plane does is refused (ACL LOG stays empty),
// and everything outside the namespace is.
import test, { type ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { storageKey } from '../../../dataplane/src/cache/storage-key.ts';
import type { RedisConfig } from '../../../dataplane/src/config/config.ts';
import { createRedisClient, waitUntilReady } from '../../../dataplane/src/redis/connect.ts';
import { RedisStore } from '../../../dataplane/src/redis/redis-store.ts';
import type { StoredValue } from '../../../dataplane/src/redis/remote-store.ts';
import {
  redisCli,
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../../../dataplane/test/support/redis-harness.ts';
import { DEFAULT_SETTINGS, desiredState, type DesiredState } from '../../src/desired/desired-state.ts';
import { AclNodesError, IoredisAcl, operatorAclRules } from '../../src/redis/acl-admin.ts';
import { nodesOutOfSync, passwordHash, type AclUserSpec } from '../../src/redis/acl-rules.ts';
import { generatePassword } from '../../src/redis/password.ts';
import { cacheNamespace } from '../support/resources.ts';

const OPERATOR_USER = 'cacheplane-operator';
const OPERATOR_PASSWORD = generatePassword();

interface Topology {
  mode: 'standalone' | 'cluster';
  /** Every node, `host:port`. */
  nodes: string[];
  acl: IoredisAcl;
}

let standalone: RedisServerHandle | undefined;
let cluster: RedisClusterHandle | undefined;
const topologies = new Map<'standalone' | 'cluster', Topology>();

test.before(async () => {
  [standalone, cluster] = await Promise.all([startRedisStandalone(), startRedisCluster()]);
  for (const [mode, nodes] of [
    ['standalone', [standalone.address]],
    ['cluster', cluster.addresses],
  ] as const) {
    // The operator's own user, created as an administrator would (here: as the default user).
    for (const node of nodes) {
      await redisCli(
        node,
        'ACL',
        'SETUSER',
        OPERATOR_USER,
        'reset',
        'on',
        `>${OPERATOR_PASSWORD}`,
        ...operatorAclRules(mode),
      );
    }
    const acl = new IoredisAcl({
      mode,
      addresses: nodes.slice(0, 1),
      username: OPERATOR_USER,
      password: OPERATOR_PASSWORD,
      managedUserPrefix: 'cacheplane.',
    });
    topologies.set(mode, { mode, nodes: [...nodes], acl });
  }
});

test.after.always(async () => {
  await Promise.all([...topologies.values()].map((topology) => topology.acl.close()));
  await Promise.all([standalone?.stop(), cluster?.stop()]);
});

function topology(mode: 'standalone' | 'cluster'): Topology {
  const found = topologies.get(mode);
  if (found === undefined) throw new Error(`${mode} Redis did not start`);
  return found;
}

/** The desired state of a CacheNamespace named `name` in Kubernetes namespace `team-a`. */
function desired(mode: 'standalone' | 'cluster', name: string): DesiredState {
  return desiredState(cacheNamespace({ name }), { ...DEFAULT_SETTINGS, redis: { mode, db: 0 } });
}

/** The user as redis-cli shows it on every node (independent of IoredisAcl's own parsing). */
async function getUserEverywhere(nodes: string[], name: string): Promise<string[]> {
  return Promise.all(nodes.map((node) => redisCli(node, 'ACL', 'GETUSER', name)));
}

/** ACL LOG entries of `user` on every node, as `node reason object` lines. */
async function aclLog(nodes: string[], user: string): Promise<string[]> {
  const entries: string[] = [];
  for (const node of nodes) {
    const [host, port] = node.split(':');
    const client = new Redis({ host, port: Number(port), lazyConnect: true });
    try {
      await client.connect();
      const log = (await client.call('ACL', 'LOG', '1000')) as unknown[];
      for (const entry of log) {
        const fields = toRecord(entry);
        if (fields['username'] === user)
          entries.push(`${node} ${String(fields['reason'])} ${String(fields['object'])}`);
      }
    } finally {
      client.disconnect();
    }
  }
  return entries;
}

function toRecord(entry: unknown): Record<string, unknown> {
  if (entry instanceof Map) return Object.fromEntries(entry) as Record<string, unknown>;
  if (Array.isArray(entry)) {
    const record: Record<string, unknown> = {};
    for (let i = 0; i + 1 < entry.length; i += 2) record[String(entry[i])] = entry[i + 1];
    return record;
  }
  return entry as Record<string, unknown>;
}

/** A data-plane store, connected to Redis as `username`, exactly as the data plane connects. */
async function dataPlaneStore(top: Topology, username: string, password: string): Promise<RedisStore> {
  const config: RedisConfig = {
    addresses: top.nodes.slice(0, 1),
    username,
    password,
    db: 0,
    clusterMode: top.mode === 'cluster',
    tlsEnabled: false,
    dialTimeoutMs: 1000,
    commandTimeoutMs: 2000,
    autoPipelining: true,
    breaker: { maxFailures: 5, openTimeoutMs: 10_000, halfOpenMaxRequests: 1 },
    replayIntervalMs: 1000,
  };
  // One try: the cluster client's ready check no longer races its eagerly connected nodes (connect.ts).
  const errors = new Set<string>();
  const client = createRedisClient(config, { onError: (error) => errors.add(error.message) });
  try {
    await waitUntilReady(client, 3000);
    return new RedisStore(client);
  } catch (error) {
    client.disconnect();
    throw new Error(
      `the data plane could not connect as ${username}: ${(error as Error).message} [${[...errors].join(' | ')}]`,
      { cause: error },
    );
  }
}

function stored(text: string, writtenAt = Date.now()): StoredValue {
  return { value: Buffer.from(text), writtenAt, expiresAt: writtenAt + 60_000 };
}

async function assertInSync(
  t: ExecutionContext,
  top: Topology,
  user: AclUserSpec,
  password: string,
): Promise<void> {
  const states = await top.acl.inspect(user.name);
  t.deepEqual([...states.keys()].sort(), [...top.nodes].sort(), 'inspect reaches every node');
  t.deepEqual(nodesOutOfSync(user, passwordHash(password), states), []);
}

const NOPERM = { message: /NOPERM/ };

for (const mode of ['standalone', 'cluster'] as const) {
  test(`${mode}: apply creates the user on every node with exactly the desired rules`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'apply');
    const password = generatePassword();
    await top.acl.apply(aclUser, password);

    await assertInSync(t, top, aclUser, password);
    const expectedCommands = ['-@all', ...aclUser.commands.map((command) => `+${command}`)].sort();
    for (const reply of await getUserEverywhere(top.nodes, aclUser.name)) {
      const lines = reply.split('\n');
      const field = (name: string) => lines[lines.indexOf(name) + 1] ?? '';
      t.deepEqual(field('commands').split(' ').sort(), expectedCommands);
      t.is(field('keys'), '~apply:*');
      t.is(field('channels'), '');
      t.is(field('passwords'), passwordHash(password));
      t.regex(field('flags'), /^on$/m);
    }
    t.is(top.nodes.length, mode === 'cluster' ? 6 : 1);
  });

  test(`${mode}: the data plane, as the namespace's user, works in its namespace and nowhere else`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'orders');
    const password = generatePassword();
    await top.acl.apply(aclUser, password);
    const store = await dataPlaneStore(top, aclUser.name, password);
    try {
      const key = (k: string) => storageKey('orders', k);
      const now = Date.now();
      await store.set(key('a'), stored('A', now));
      t.is((await store.get(key('a')))?.value.toString(), 'A');
      // Many keys: in a cluster they span hash slots and nodes.
      const keys = Array.from({ length: 24 }, (_, i) => key(`k{${i}}%`));
      await store.setMany(keys.map((k, i) => [k, stored(`v${i}`, now)] as const));
      const values = await store.getMany([...keys, key('missing')]);
      t.deepEqual(
        values.map((value) => value?.value.toString()),
        [...keys.map((_, i) => `v${i}`), undefined],
      );
      // The Lua scripts of the write journal's replay.
      t.is(await store.setIfNotNewer(key('a'), stored('newer', now + 10)), 'applied');
      t.is(await store.setIfNotNewer(key('a'), stored('older', now + 5)), 'skipped-newer');
      t.is(await store.deleteIfNotNewer(key('a'), now + 1), 'skipped-newer');
      t.is(await store.deleteIfNotNewer(key('a'), now + 20), 'applied');
      t.is(await store.get(key('a')), undefined);
      t.true(await store.delete(keys[0] as string));
      t.false(await store.delete(keys[0] as string));
      await store.ping();
      t.true(store.isConnected());

      // Nothing so far was refused: the command list is complete (connect and handshake included).
      t.deepEqual(await aclLog(top.nodes, aclUser.name), []);

      // Another namespace's keys, even one whose name starts alike, and keys outside any namespace.
      for (const other of [
        storageKey('payments', 'a'),
        storageKey('orders-eu', 'a'),
        'orders',
        'ordersx:a',
      ]) {
        await t.throwsAsync(store.get(other), NOPERM, other);
        await t.throwsAsync(store.set(other, stored('x')), NOPERM, other);
        await t.throwsAsync(store.delete(other), NOPERM, other);
        await t.throwsAsync(store.setIfNotNewer(other, stored('x')), NOPERM, other);
        await t.throwsAsync(store.deleteIfNotNewer(other, Date.now()), NOPERM, other);
      }
      await t.throwsAsync(store.getMany([storageKey('payments', 'a')]), NOPERM);
      t.true((await aclLog(top.nodes, aclUser.name)).length > 0, 'the refusals are in the ACL LOG');
    } finally {
      await store.close();
    }
  });

  test(`${mode}: commands outside the data plane's list are refused`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'narrow');
    const password = generatePassword();
    await top.acl.apply(aclUser, password);
    const [host, port] = (top.nodes[0] as string).split(':');
    const client = new Redis({
      host,
      port: Number(port),
      username: aclUser.name,
      password,
      lazyConnect: true,
    });
    try {
      await client.connect();
      for (const command of [
        ['FLUSHALL'],
        ['KEYS', 'narrow:*'],
        ['SCAN', '0'],
        ['CONFIG', 'GET', 'maxmemory'],
        ['ACL', 'LIST'],
        ['SCRIPT', 'FLUSH'],
        ['PUBLISH', 'narrow:c', 'x'],
        ['SUBSCRIBE', 'narrow:c'],
        ['CLIENT', 'LIST'],
        ['FLUSHDB'],
        ['RENAME', 'narrow:a', 'narrow:b'],
        ['EXPIRE', 'narrow:a', '10'],
      ]) {
        await t.throwsAsync(
          client.call(command[0] as string, ...command.slice(1)),
          NOPERM,
          command.join(' '),
        );
      }
    } finally {
      client.disconnect();
    }
  });

  test(`${mode}: re-applying is idempotent and keeps the data plane's connections`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'again');
    const password = generatePassword();
    await top.acl.apply(aclUser, password);
    const store = await dataPlaneStore(top, aclUser.name, password);
    try {
      const before = await getUserEverywhere(top.nodes, aclUser.name);
      await top.acl.apply(aclUser, password);
      await top.acl.apply(aclUser, password);
      t.deepEqual(await getUserEverywhere(top.nodes, aclUser.name), before);
      await assertInSync(t, top, aclUser, password);
      await store.set(storageKey('again', 'k'), stored('v'));
      t.is((await store.get(storageKey('again', 'k')))?.value.toString(), 'v');
    } finally {
      await store.close();
    }
  });

  test(`${mode}: a changed spec replaces the rules (reset), a new password replaces the old`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'change');
    const wider: AclUserSpec = {
      ...aclUser,
      keyPatterns: [...aclUser.keyPatterns, 'elsewhere:*'],
      commands: [...aclUser.commands, 'keys', 'expire'],
    };
    const oldPassword = generatePassword();
    await top.acl.apply(wider, oldPassword);
    await assertInSync(t, top, wider, oldPassword);

    const newPassword = generatePassword();
    await top.acl.apply(aclUser, newPassword);
    await assertInSync(t, top, aclUser, newPassword);
    for (const reply of await getUserEverywhere(top.nodes, aclUser.name)) {
      t.notRegex(reply, /elsewhere|\+keys|\+expire/);
    }
    for (const node of top.nodes) {
      const [host, port] = node.split(':');
      const client = new Redis({ host, port: Number(port), lazyConnect: true });
      try {
        await client.connect();
        await t.throwsAsync(client.call('AUTH', aclUser.name, oldPassword), { message: /WRONGPASS/ });
        t.is(await client.call('AUTH', aclUser.name, newPassword), 'OK');
      } finally {
        client.disconnect();
      }
    }
  });

  test(`${mode}: drift on one node is detected by inspect and repaired by apply`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'drift');
    const password = generatePassword();
    await top.acl.apply(aclUser, password);
    // By hand, on the last node (a replica in the cluster's usual layout): more commands, all keys,
    // a second password.
    const tampered = top.nodes.at(-1) as string;
    await redisCli(tampered, 'ACL', 'SETUSER', aclUser.name, '+flushall', '~*', '>letmein', '&*');

    const drifted = nodesOutOfSync(aclUser, passwordHash(password), await top.acl.inspect(aclUser.name));
    t.deepEqual(
      drifted.map(({ node }) => node),
      [tampered],
    );
    t.deepEqual(drifted[0]?.problems, [
      'the user has 2 password(s), not exactly the desired one',
      'extra command rule(s): +flushall',
      // Redis folds `~drift:*` into the wider `~*`.
      'extra key pattern(s): ~*',
      'missing key pattern(s): ~drift:*',
      'extra channel pattern(s): &*',
    ]);

    await top.acl.apply(aclUser, password);
    await assertInSync(t, top, aclUser, password);

    // Deleted by hand on one node: detected as missing, repaired the same way.
    await redisCli(tampered, 'ACL', 'DELUSER', aclUser.name);
    const missing = nodesOutOfSync(aclUser, passwordHash(password), await top.acl.inspect(aclUser.name));
    t.deepEqual(missing, [{ node: tampered, problems: [`user ${aclUser.name} does not exist`] }]);
    await top.acl.apply(aclUser, password);
    await assertInSync(t, top, aclUser, password);
  });

  test(`${mode}: remove deletes the user from every node, disconnects it, and is idempotent`, async (t) => {
    const top = topology(mode);
    const { aclUser } = desired(mode, 'removed');
    const password = generatePassword();
    await top.acl.apply(aclUser, password);
    const store = await dataPlaneStore(top, aclUser.name, password);
    try {
      await top.acl.remove(aclUser.name);
      const states = await top.acl.inspect(aclUser.name);
      t.is(states.size, top.nodes.length);
      t.true([...states.values()].every((state) => state === undefined));
      for (const reply of await getUserEverywhere(top.nodes, aclUser.name)) t.is(reply.trim(), '');
      await top.acl.remove(aclUser.name);
      await t.throwsAsync(store.get(storageKey('removed', 'k')));
    } finally {
      await store.close();
    }
    await t.throwsAsync(dataPlaneStore(top, aclUser.name, password), { message: /WRONGPASS/ });
  });

  test(`${mode}: users that are not the operator's are never touched`, async (t) => {
    const top = topology(mode);
    for (const name of ['default', OPERATOR_USER, 'someone-else', 'cacheplane-other']) {
      await t.throwsAsync(top.acl.remove(name), { message: /refusing to manage Redis ACL user/ });
      await t.throwsAsync(top.acl.apply({ name, keyPatterns: ['x:*'], commands: ['get'] }, 'p'), {
        message: /refusing to manage/,
      });
    }
    t.regex(await redisCli(top.nodes[0] as string, 'ACL', 'GETUSER', OPERATOR_USER), /acl\|setuser/);
  });
}

test('an unreachable Redis fails with the node named, and nothing hangs', async (t) => {
  const acl = new IoredisAcl({ mode: 'standalone', addresses: ['127.0.0.1:1'], connectTimeoutMs: 500 });
  try {
    const started = Date.now();
    const error = await t.throwsAsync(acl.apply(desired('standalone', 'x').aclUser, generatePassword()), {
      instanceOf: AclNodesError,
    });
    t.regex(error?.message ?? '', /failed on 1 of 1 Redis node\(s\): 127\.0\.0\.1:1: cannot connect/);
    t.true(Date.now() - started < 2000);
  } finally {
    await acl.close();
  }
});

test('a cluster whose seeds all fail says so', async (t) => {
  const acl = new IoredisAcl({
    mode: 'cluster',
    addresses: ['127.0.0.1:1', '127.0.0.1:2'],
    connectTimeoutMs: 500,
  });
  try {
    await t.throwsAsync(acl.inspect('cacheplane.a.b'), {
      message: /no Redis Cluster node answered CLUSTER NODES/,
    });
  } finally {
    await acl.close();
  }
});

test('the operator user cannot touch keys', async (t) => {
  const top = topology('cluster');
  const [host, port] = (top.nodes[0] as string).split(':');
  const client = new Redis({
    host,
    port: Number(port),
    username: OPERATOR_USER,
    password: OPERATOR_PASSWORD,
    lazyConnect: true,
    enableReadyCheck: false,
  });
  try {
    await client.connect();
    await t.throwsAsync(client.call('GET', 'orders:a'), NOPERM);
    await t.throwsAsync(client.call('FLUSHALL'), NOPERM);
  } finally {
    client.disconnect();
  }
});
