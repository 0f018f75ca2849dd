import test from 'ava';
import { Cluster, Redis } from 'ioredis';
import { redisCli, startRedisCluster, startRedisStandalone } from '../support/redis-harness.ts';

const COMMAND_TIMEOUT_MS = 300;

async function ready(client: Redis): Promise<void> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
}

test.serial(
  'a standalone server answers, pauses, resumes, and comes back after kill + restart',
  async (t) => {
    const server = await startRedisStandalone();
    t.teardown(() => server.stop());
    t.is(server.address, `127.0.0.1:${server.port}`);
    t.is(server.url, `redis://127.0.0.1:${server.port}`);
    t.is((await redisCli(server.address, 'PING')).trim(), 'PONG');

    const client = new Redis({
      host: server.host,
      port: server.port,
      commandTimeout: COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    client.on('error', () => {}); // connection refused while the server is down
    t.teardown(() => client.disconnect());
    await ready(client);
    t.is(await client.ping(), 'PONG');

    server.pause();
    await t.throwsAsync(client.ping(), { message: /timed out/ });
    server.resume();
    t.is(await client.ping(), 'PONG');

    const firstPid = server.pid;
    await server.kill();
    await t.throwsAsync(redisCli(server.address, 'PING'));
    await server.restart();
    t.not(server.pid, firstPid);
    t.is((await redisCli(server.address, 'PING')).trim(), 'PONG');
    await ready(client);
    t.is(await client.ping(), 'PONG');
  },
);

test.serial('a cluster is ok on every node, with 3 primaries and 3 replicas', async (t) => {
  const started = Date.now();
  const cluster = await startRedisCluster();
  t.teardown(() => cluster.stop());
  t.log(`cluster started in ${Date.now() - started} ms`);
  t.is(cluster.nodes.length, 6);

  for (const address of cluster.addresses) {
    const info = await redisCli(address, 'CLUSTER', 'INFO');
    t.regex(info, /cluster_state:ok/);
    t.regex(info, /cluster_size:3/);
  }
  const roles = (await redisCli(cluster.addresses[0] as string, 'CLUSTER', 'NODES'))
    .trim()
    .split('\n')
    .map((line) => (line.split(' ')[2]?.includes('master') ? 'primary' : 'replica'));
  t.is(roles.filter((role) => role === 'primary').length, 3);
  t.is(roles.filter((role) => role === 'replica').length, 3);

  const client = new Cluster(cluster.addresses.map((address) => address));
  t.teardown(() => client.disconnect());
  await client.set('{harness}key', 'value');
  t.is(await client.get('{harness}key'), 'value');
  t.is(client.nodes('master').length, 3);
});

test.serial('a missing redis-server binary fails loudly, naming scripts/provision.sh', async (t) => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await t.throwsAsync(startRedisStandalone(), {
      message: /redis-server not found.*scripts\/provision\.sh/,
    });
  } finally {
    process.env.PATH = path;
  }
});
