// The whole data plane (main.ts's startDataPlane) over real sockets, against real Redis standalone
// and a real 3-primary cluster: both transports over one service, real validation errors, and
// concurrent load on hot keys.
import anyTest, { type TestFn } from 'ava';
import { Redis } from 'ioredis';
import type { CacheServiceClient } from '../../src/generated/cache/v1/CacheService.ts';
import { storageKey } from '../../src/cache/storage-key.ts';
import { clusterEnv, standaloneEnv } from '../support/cache-fixture.ts';
import {
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../support/redis-harness.ts';
import { startTestDataPlane, type TestDataPlane } from '../support/test-data-plane.ts';
import { bearer, cacheClient, invoke } from '../grpc/grpc-harness.ts';
import type { GetResponse__Output } from '../../src/generated/cache/v1/GetResponse.ts';
import type { SetResponse__Output } from '../../src/generated/cache/v1/SetResponse.ts';

interface Target {
  plane: TestDataPlane;
  grpc: CacheServiceClient;
}

const test = anyTest as TestFn<{
  standalone: RedisServerHandle;
  cluster: RedisClusterHandle;
  targets: Record<'standalone' | 'cluster', Target>;
}>;

const NS = 'team-a';

test.before(async (t) => {
  const [standalone, cluster] = await Promise.all([startRedisStandalone(), startRedisCluster()]);
  t.context.standalone = standalone;
  t.context.cluster = cluster;
  const target = async (env: Record<string, string>): Promise<Target> => {
    const plane = await startTestDataPlane(env);
    return { plane, grpc: cacheClient(plane.grpcAddress) };
  };
  t.context.targets = {
    standalone: await target(standaloneEnv(standalone)),
    cluster: await target(clusterEnv(cluster)),
  };
});

test.after.always(async (t) => {
  for (const { plane, grpc } of Object.values(t.context.targets ?? {})) {
    grpc.close();
    await plane.stop();
  }
  await t.context.standalone?.stop();
  await t.context.cluster?.stop();
});

function rest(plane: TestDataPlane, method: string, path: string, body?: unknown, namespaces = [NS]) {
  return fetch(`${plane.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${plane.token(namespaces)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

for (const mode of ['standalone', 'cluster'] as const) {
  test.serial(`REST writes are read over gRPC and the other way round (${mode})`, async (t) => {
    const { plane, grpc } = t.context.targets[mode];
    const auth = () => bearer(plane.token([NS]));
    const put = await rest(plane, 'PUT', `/api/v1/cache/${NS}/from-rest`, { value: 'héllo', ttlSeconds: 60 });
    t.is(put.status, 200);
    t.deepEqual(await put.json(), { success: true, degraded: false });
    const got = await invoke<GetResponse__Output>((cb) =>
      grpc.get({ namespace: NS, key: 'from-rest' }, auth(), cb),
    );
    t.is(got.response?.value.toString('utf8'), 'héllo');
    t.true(got.response?.found);

    const bytes = Buffer.from([0, 255, 1, 254, 0x80]);
    const set = await invoke<SetResponse__Output>((cb) =>
      grpc.set({ namespace: NS, key: 'a/b {c}', value: bytes, ttlSeconds: 60 }, auth(), cb),
    );
    t.true(set.response?.success);
    const read = await rest(plane, 'GET', `/api/v1/cache/${NS}/${encodeURIComponent('a/b {c}')}`);
    const body = (await read.json()) as { value: string; encoding: string };
    t.is(body.encoding, 'base64');
    t.deepEqual(Buffer.from(body.value, 'base64'), bytes);
  });

  test.serial(`real validation errors map to statuses and change nothing (${mode})`, async (t) => {
    const { plane } = t.context.targets[mode];
    const path = `/api/v1/cache/${NS}/guarded`;
    t.is((await rest(plane, 'PUT', path, { value: 'original' })).status, 200);
    const attempts: Array<[unknown, number, string]> = [
      [{ value: 'x'.repeat(1024 * 1024 + 1) }, 413, 'PAYLOAD_TOO_LARGE'],
      [{ value: 'x', ttlSeconds: 0 }, 400, 'TTL_INVALID'],
      [{ value: 'x', ttlSeconds: 31 * 24 * 3600 }, 400, 'TTL_INVALID'],
      [{ value: '!!', encoding: 'base64' }, 400, 'INVALID_VALUE'],
      ['{"value": "x"', 400, 'INVALID_REQUEST'],
      [{ value: 'x', encrypt: true }, 501, 'ENCRYPTION_UNAVAILABLE'],
    ];
    for (const [body, status, code] of attempts) {
      const response = await rest(plane, 'PUT', path, body);
      t.is(response.status, status, code);
      t.is(((await response.json()) as { code: string }).code, code);
    }
    const longKey = encodeURIComponent('k'.repeat(1025));
    t.is((await rest(plane, 'PUT', `/api/v1/cache/${NS}/${longKey}`, { value: 'x' })).status, 400);
    const badNamespace = await rest(plane, 'GET', '/api/v1/cache/Bad_NS/key', undefined, ['Bad_NS']);
    t.is(badNamespace.status, 400);
    const unchanged = (await (await rest(plane, 'GET', path)).json()) as { value: string };
    t.is(unchanged.value, 'original');
  });

  test.serial(`batches span hash slots through the API (${mode})`, async (t) => {
    const { plane } = t.context.targets[mode];
    const entries = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`batch-${i}`, { value: `v${i}` }]),
    );
    const set = await rest(plane, 'POST', `/api/v1/cache/${NS}/batch/set`, { entries, ttlSeconds: 60 });
    t.deepEqual(await set.json(), { success: true, storedCount: 100, degraded: false });
    const keys = [...Object.keys(entries), 'absent-1', 'absent-2'];
    const get = await rest(plane, 'POST', `/api/v1/cache/${NS}/batch/get`, { keys });
    const body = (await get.json()) as { values: Record<string, { value: string }>; missingKeys: string[] };
    t.is(Object.keys(body.values).length, 100);
    t.is(body.values['batch-42']?.value, 'v42');
    t.deepEqual(body.missingKeys.sort(), ['absent-1', 'absent-2']);
  });

  test.serial(`concurrent load on hot keys over both transports (${mode})`, async (t) => {
    const { plane, grpc } = t.context.targets[mode];
    const hot = ['hot-0', 'hot-1', 'hot-2'];
    const auth = bearer(plane.token([NS]));
    const written = new Set<string>();
    const calls = Array.from({ length: 600 }, async (_, i) => {
      const key = hot[i % hot.length] as string;
      if (i % 4 === 0) {
        const value = `${key}#${i}`;
        written.add(value);
        if (i % 8 === 0) {
          const res = await rest(plane, 'PUT', `/api/v1/cache/${NS}/${key}`, { value });
          return res.status === 200;
        }
        const res = await invoke<SetResponse__Output>((cb) =>
          grpc.set({ namespace: NS, key, value: Buffer.from(value) }, auth, cb),
        );
        return res.response?.success === true;
      }
      if (i % 2 === 0) {
        const res = await rest(plane, 'GET', `/api/v1/cache/${NS}/${key}`);
        if (res.status === 404) return true;
        const { value } = (await res.json()) as { value: string };
        return value.startsWith(`${key}#`);
      }
      const res = await invoke<GetResponse__Output>((cb) => grpc.get({ namespace: NS, key }, auth, cb));
      return (
        res.error === undefined &&
        (!res.response?.found || res.response.value.toString().startsWith(`${key}#`))
      );
    });
    const outcomes = await Promise.all(calls);
    t.is(outcomes.filter(Boolean).length, outcomes.length, 'every call succeeded with a well-formed answer');
    // What Redis ends with for each hot key is one of the values written to it.
    const plain = mode === 'standalone' ? new Redis(t.context.standalone.port, '127.0.0.1') : undefined;
    for (const key of hot) {
      const res = await rest(plane, 'GET', `/api/v1/cache/${NS}/${key}`);
      const { value } = (await res.json()) as { value: string };
      t.true(written.has(value), `${key} holds a value written to it`);
      if (plain !== undefined) t.is(await plain.exists(storageKey(NS, key)), 1);
    }
    plain?.disconnect();
  });
}
