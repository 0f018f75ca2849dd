import test, { type ExecutionContext } from 'ava';
import type { RedisConfig } from '../../src/config/config.ts';
import { createRedisClient, waitUntilReady, type RedisClient } from '../../src/redis/connect.ts';
import { RedisStore } from '../../src/redis/redis-store.ts';
import type { StoredValue } from '../../src/redis/remote-store.ts';
import {
  redisCli,
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../support/redis-harness.ts';

const COMMAND_TIMEOUT_MS = 500;
/** Slack for timers and the event loop on a busy CI machine. */
const FAIL_FAST_MARGIN_MS = 400;
const READY_TIMEOUT_MS = 10_000;

function redisConfig(addresses: string[], clusterMode: boolean, autoPipelining: boolean): RedisConfig {
  return {
    addresses,
    username: undefined,
    password: undefined,
    db: 0,
    clusterMode,
    tlsEnabled: false,
    dialTimeoutMs: 1000,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    autoPipelining,
    breaker: { maxFailures: 5, openTimeoutMs: 10_000, halfOpenMaxRequests: 1 },
    replayIntervalMs: 1000,
  };
}

const ignoreErrors = { onError: () => {} };

async function connect(config: RedisConfig): Promise<{ client: RedisClient; store: RedisStore }> {
  const client = createRedisClient(config, ignoreErrors);
  await waitUntilReady(client, READY_TIMEOUT_MS);
  return { client, store: new RedisStore(client) };
}

// ---------------------------------------------------------------------------------------------
// Servers shared by the tests that do not disturb them

interface Setup {
  name: string;
  clusterMode: boolean;
  autoPipelining: boolean;
  client?: RedisClient;
  store?: RedisStore;
}

const setups: Setup[] = [
  { name: 'standalone', clusterMode: false, autoPipelining: true },
  { name: 'standalone, no auto-pipelining', clusterMode: false, autoPipelining: false },
  { name: 'cluster', clusterMode: true, autoPipelining: true },
  { name: 'cluster, no auto-pipelining', clusterMode: true, autoPipelining: false },
];

let standalone: RedisServerHandle | undefined;
let cluster: RedisClusterHandle | undefined;

test.before(async (t) => {
  const started = Date.now();
  [standalone, cluster] = await Promise.all([startRedisStandalone(), startRedisCluster()]);
  t.log(`standalone + cluster started in ${Date.now() - started} ms`);
  for (const setup of setups) {
    const addresses = setup.clusterMode ? (cluster?.addresses ?? []) : [standalone?.address ?? ''];
    Object.assign(setup, await connect(redisConfig(addresses, setup.clusterMode, setup.autoPipelining)));
  }
});

test.after.always(async () => {
  await Promise.all(setups.flatMap((setup) => (setup.store === undefined ? [] : [setup.store.close()])));
  await Promise.all([standalone?.stop(), cluster?.stop()]);
});

function parts(setup: Setup): { client: RedisClient; store: RedisStore } {
  if (setup.client === undefined || setup.store === undefined)
    throw new Error(`${setup.name}: not connected`);
  return { client: setup.client, store: setup.store };
}

/** A value written at `writtenAt` that expires `ttlMs` from now. */
function stored(text: string, writtenAt = Date.now(), ttlMs = 60_000): StoredValue {
  return { value: Buffer.from(text), writtenAt, expiresAt: Date.now() + ttlMs };
}

/** Keys unique to one test (titles name the setup), so the tests can share servers and run concurrently. */
function keyspace(t: ExecutionContext): (suffix: string | number) => string {
  return (suffix) => `t:${t.title}:${suffix}`;
}

// ---------------------------------------------------------------------------------------------
// Behaviour, in every setup

for (const setup of setups) {
  test(`${setup.name}: a value round-trips with its metadata`, async (t) => {
    const { store } = parts(setup);
    const key = keyspace(t);
    const value = stored('hello \u0000 world', Date.now() - 12_345);
    value.value = Buffer.concat([value.value, Buffer.from([0xff, 0xca, 0x01])]);
    await store.set(key('a'), value);
    t.deepEqual(await store.get(key('a')), value);
    t.is(await store.get(key('missing')), undefined);
    t.is(store.mode, setup.clusterMode ? 'cluster' : 'standalone');
  });

  test(`${setup.name}: set gives the key a Redis TTL of expiresAt - now`, async (t) => {
    const { client, store } = parts(setup);
    const key = keyspace(t);
    await store.set(key('long'), stored('v', Date.now(), 60_000));
    const pttl = await client.pttl(key('long'));
    t.true(pttl > 59_000 && pttl <= 60_000, `PTTL ${pttl}`);

    // Already expired: stored with the minimum TTL of 1 ms, so it is gone at once.
    await store.set(key('expired'), stored('v', Date.now() - 10_000, -5000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.is(await store.get(key('expired')), undefined);
  });

  test(`${setup.name}: getMany and setMany keep the order of the keys, across hash slots`, async (t) => {
    const { client, store } = parts(setup);
    const key = keyspace(t);
    const written = Array.from({ length: 60 }, (_, i) => [key(i), stored(`value ${i}`)] as const);
    // Hash-tagged keys share a slot: several keys in one MGET.
    const tagged = Array.from(
      { length: 5 },
      (_, i) => [`{${key('tag')}}:${i}`, stored(`tagged ${i}`)] as const,
    );
    await store.setMany([...written, ...tagged]);

    const asked = [
      key('missing-first'),
      ...written.map(([k]) => k),
      key('missing-middle'),
      ...tagged.map(([k]) => k),
    ];
    const found = await store.getMany(asked);
    t.is(found.length, asked.length);
    t.is(found[0], undefined);
    t.deepEqual(
      found.slice(1, 61),
      written.map(([, v]) => v),
    );
    t.is(found[61], undefined);
    t.deepEqual(
      found.slice(62),
      tagged.map(([, v]) => v),
    );
    t.deepEqual(await store.getMany([]), []);
    await store.setMany([]);

    if (setup.clusterMode) {
      const slots = new Set(await Promise.all(asked.map((k) => client.call('CLUSTER', 'KEYSLOT', k))));
      t.true(slots.size >= 3, `keys span ${slots.size} slots`);
    }
    const pttl = await client.pttl(written[42]?.[0] ?? '');
    t.true(pttl > 59_000, `PTTL ${pttl}`);
  });

  test(`${setup.name}: delete reports whether a key was there`, async (t) => {
    const { store } = parts(setup);
    const key = keyspace(t);
    await store.set(key('a'), stored('v'));
    t.true(await store.delete(key('a')));
    t.false(await store.delete(key('a')));
    t.is(await store.get(key('a')), undefined);
  });

  test(`${setup.name}: setIfNotNewer skips only when Redis holds a later write`, async (t) => {
    const { store } = parts(setup);
    const key = keyspace(t);
    const now = Date.now();
    t.is(await store.setIfNotNewer(key('a'), stored('first', now)), 'applied');
    t.is(await store.setIfNotNewer(key('a'), stored('older', now - 1)), 'skipped-newer');
    t.is((await store.get(key('a')))?.value.toString(), 'first');
    t.is(await store.setIfNotNewer(key('a'), stored('same time', now)), 'applied');
    const newer = stored('newer', now + 1);
    t.is(await store.setIfNotNewer(key('a'), newer), 'applied');
    t.deepEqual(await store.get(key('a')), newer);
    // Timestamps whose hex differs in length without padding (0xfff vs 0x1000) still order right.
    t.is(await store.setIfNotNewer(key('b'), stored('x', 0x1000)), 'applied');
    t.is(await store.setIfNotNewer(key('b'), stored('y', 0xfff)), 'skipped-newer');
  });

  test(`${setup.name}: deleteIfNotNewer skips only when Redis holds a later write`, async (t) => {
    const { store } = parts(setup);
    const key = keyspace(t);
    const now = Date.now();
    await store.set(key('a'), stored('v', now));
    t.is(await store.deleteIfNotNewer(key('a'), now - 1), 'skipped-newer');
    t.truthy(await store.get(key('a')));
    t.is(await store.deleteIfNotNewer(key('a'), now), 'applied');
    t.is(await store.get(key('a')), undefined);
    t.is(await store.deleteIfNotNewer(key('never-written'), now), 'applied');
  });

  test(`${setup.name}: values written by other clients read back raw and count as older`, async (t) => {
    const { client, store } = parts(setup);
    const key = keyspace(t);
    await client.set(key('raw'), 'plain text');
    await client.set(key('raw2'), Buffer.from([0xca, 0x01, 0x02]));
    const raw = { value: Buffer.from('plain text'), writtenAt: 0, expiresAt: 0 };
    t.deepEqual(await store.get(key('raw')), raw);
    t.deepEqual(await store.getMany([key('raw'), key('raw2')]), [
      raw,
      { value: Buffer.from([0xca, 0x01, 0x02]), writtenAt: 0, expiresAt: 0 },
    ]);
    t.is(await store.setIfNotNewer(key('raw'), stored('ours', 1)), 'applied');
    t.is((await store.get(key('raw')))?.value.toString(), 'ours');
    t.is(await store.deleteIfNotNewer(key('raw2'), 1), 'applied');
    t.is(await store.get(key('raw2')), undefined);
  });

  test(`${setup.name}: ping and isConnected while Redis is up`, async (t) => {
    const { store } = parts(setup);
    await t.notThrowsAsync(store.ping());
    t.true(store.isConnected());
  });
}

test('standalone: a redis:// address with a database number selects that database', async (t) => {
  if (standalone === undefined) throw new Error('standalone not started');
  const { store } = await connect(redisConfig([`${standalone.url}/2`], false, true));
  t.teardown(() => store.close());
  await store.set('in-db-2', stored('v'));
  t.is((await redisCli(standalone.address, '-n', '2', 'EXISTS', 'in-db-2')).trim(), '1');
  t.is((await redisCli(standalone.address, '-n', '0', 'EXISTS', 'in-db-2')).trim(), '0');
});

// ---------------------------------------------------------------------------------------------
// Failure: each test disturbs servers of its own

async function elapsed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  try {
    await promise;
    return { ms: Date.now() - start, error: undefined };
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
}

test.serial('standalone: commands to a frozen server reject after the command timeout', async (t) => {
  const server = await startRedisStandalone();
  t.teardown(() => server.stop());
  const { store } = await connect(redisConfig([server.address], false, true));
  t.teardown(() => store.close());

  server.pause();
  const results = await Promise.all([
    elapsed(store.get('frozen:a')),
    elapsed(store.getMany(['frozen:a', 'frozen:b'])),
    elapsed(store.set('frozen:c', stored('v'))),
    elapsed(store.setIfNotNewer('frozen:d', stored('v'))),
  ]);
  server.resume();
  for (const { ms, error } of results) {
    t.true(error instanceof Error, 'rejected');
    t.regex((error as Error).message, /timed out/);
    t.true(ms >= COMMAND_TIMEOUT_MS - 50 && ms < COMMAND_TIMEOUT_MS + FAIL_FAST_MARGIN_MS, `took ${ms} ms`);
  }
  // The late replies are matched to the timed-out commands and dropped; the next ones are fine.
  await store.set('frozen:e', stored('after'));
  t.is((await store.get('frozen:e'))?.value.toString(), 'after');
});

test.serial('standalone: isConnected follows the server through kill and restart', async (t) => {
  const server = await startRedisStandalone();
  t.teardown(() => server.stop());
  const { client, store } = await connect(redisConfig([server.address], false, true));
  t.teardown(() => store.close());
  t.true(store.isConnected());

  await server.kill();
  await until(() => !store.isConnected(), 2000);
  t.false(store.isConnected());
  const down = await elapsed(store.get('down:a'));
  t.true(down.error instanceof Error, 'rejected while down');
  t.true(down.ms < 50, `rejected in ${down.ms} ms, without waiting`);
  await t.throwsAsync(store.ping());

  await server.restart();
  await waitUntilReady(client, READY_TIMEOUT_MS);
  t.true(store.isConnected());
  await store.set('down:b', stored('back'));
  t.is((await store.get('down:b'))?.value.toString(), 'back');
});

test.serial('standalone: close ends the connection, even when the server is gone', async (t) => {
  const server = await startRedisStandalone();
  t.teardown(() => server.stop());
  const first = await connect(redisConfig([server.address], false, true));
  await first.store.close();
  t.false(first.store.isConnected());
  await t.throwsAsync(first.store.get('closed:a'), { message: /closed/ });
  await until(() => first.client.status === 'end', 2000);
  t.is(first.client.status, 'end');

  const second = await connect(redisConfig([server.address], false, true));
  await server.kill();
  await until(() => !second.store.isConnected(), 2000);
  const closing = await elapsed(second.store.close());
  t.is(closing.error, undefined);
  t.true(closing.ms < COMMAND_TIMEOUT_MS + FAIL_FAST_MARGIN_MS, `closed in ${closing.ms} ms`);
  t.false(second.store.isConnected());
});

test.serial('cluster: a command to a frozen primary rejects after the command timeout', async (t) => {
  const setup = setups.find((candidate) => candidate.name === 'cluster');
  if (setup === undefined || cluster === undefined) throw new Error('cluster not started');
  const { client, store } = parts(setup);
  const key = 'frozen-primary:a';
  await store.set(key, stored('v'));
  const owner = await primaryOf(client, key);
  const node = cluster.nodes.find((candidate) => candidate.port === owner);
  if (node === undefined) throw new Error(`no node on port ${owner}`);

  // Shorter than the cluster node timeout (2 s), so no failover starts.
  node.pause();
  const frozen = await elapsed(store.get(key));
  node.resume();
  t.true(frozen.error instanceof Error, 'rejected');
  t.true(frozen.ms < COMMAND_TIMEOUT_MS + FAIL_FAST_MARGIN_MS, `took ${frozen.ms} ms`);
  t.is((await store.get(key))?.value.toString(), 'v');
});

test.serial('cluster: isConnected goes false when a primary dies and true once it is back', async (t) => {
  const ownCluster = await startRedisCluster();
  t.teardown(() => ownCluster.stop());
  const { client, store } = await connect(redisConfig(ownCluster.addresses, true, true));
  t.teardown(() => store.close());
  t.true(store.isConnected());

  const key = 'primary-down:a';
  const owner = await primaryOf(client, key);
  const node = ownCluster.nodes.find((candidate) => candidate.port === owner);
  if (node === undefined) throw new Error(`no node on port ${owner}`);
  // Back within the cluster node timeout (2 s): the same primary returns, no failover.
  await node.kill();
  await until(() => !store.isConnected(), 2000);
  t.false(store.isConnected());
  const down = await elapsed(store.get(key));
  t.true(down.error instanceof Error, 'rejected while its primary is down');
  t.true(down.ms < 50, `rejected in ${down.ms} ms, without waiting`);

  await node.restart();
  await waitUntilReady(client, READY_TIMEOUT_MS);
  t.true(store.isConnected());
  // The restarted primary answers CLUSTERDOWN until it has heard from its peers again; the store
  // does not retry that for us (fail fast), so retry here.
  const restarted = Date.now();
  await eventually(() => store.set(key, stored('back')), 5000);
  t.log(`writes accepted again ${Date.now() - restarted} ms after the primary was ready`);
  t.is((await store.get(key))?.value.toString(), 'back');
});

async function eventually(action: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await action();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The port of the primary that serves a key's slot, from CLUSTER SLOTS. */
async function primaryOf(client: RedisClient, key: string): Promise<number> {
  const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
  const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (range === undefined) throw new Error(`no primary for slot ${slot}`);
  return range[2][1];
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
