// NAMESPACES_SOURCE=kubernetes through both transports of a whole data plane (local-only
// namespaces, fed by a fake source): 401 before 403 before any error about the request, the
// access lists with subjects and groups, and the `namespaces` claim narrowing a token.
import { Metadata, status } from '@grpc/grpc-js';
import test from 'ava';
import type { TokenClaims } from '../../src/auth/jwt-verifier.ts';
import { ERROR_CODE_METADATA } from '../../src/grpc/grpc-failure.ts';
import { cacheClient, invoke, text } from '../grpc/grpc-harness.ts';
import { configEntry, FakeNamespaceSource, snapshotOf } from '../support/tenancy-fixture.ts';
import { startTestDataPlane, type TestDataPlane } from '../support/test-data-plane.ts';

const KUBERNETES_ENV = { NAMESPACES_SOURCE: 'kubernetes', LOG_LEVEL: 'warn' };

let plane: TestDataPlane;
let source: FakeNamespaceSource;

test.before(async () => {
  source = new FakeNamespaceSource(
    snapshotOf({
      orders: configEntry('orders', {
        access: [
          { subjects: ['writer'], verbs: ['get', 'set', 'delete'] },
          { groups: ['readers'], verbs: ['get'] },
        ],
      }),
    }),
  );
  plane = await startTestDataPlane(KUBERNETES_ENV, { namespaceSource: source });
});

test.after.always(() => plane.stop());

type Claims = Omit<TokenClaims, 'ttlSeconds'>;
const writer: Claims = { subject: 'writer' };
const reader: Claims = { subject: 'someone', groups: ['readers'] };
const stranger: Claims = { subject: 'stranger', groups: ['others'] };

async function rest(
  method: string,
  path: string,
  authorization: string | undefined,
  body?: unknown,
): Promise<{ status: number; code: string | undefined; message: string }> {
  const response = await fetch(`${plane.baseUrl}/api/v1/cache/${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const json = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
  return { status: response.status, code: json.code, message: json.message ?? '' };
}

const bearer = (claims: Claims) => `Bearer ${plane.signedToken(claims)}`;
const put = (path: string, authorization: string | undefined, body: unknown = { value: 'v' }) =>
  rest('PUT', path, authorization, body);

test.serial('REST: 401 comes before 403, which comes before any error about the request', async (t) => {
  const malformed = '{"value":';
  const cases: Array<
    [string, Promise<{ status: number; code: string | undefined; message: string }>, number, RegExp]
  > = [
    [
      'no token, unknown namespace, bad body',
      put('stock/k', undefined, malformed),
      401,
      /missing Authorization/,
    ],
    [
      'a bad groups claim, bad body',
      put('orders/k', bearer({ subject: 'writer', groups: 'x' as unknown as string[] }), malformed),
      401,
      /"groups" claim/,
    ],
    [
      'unknown namespace, bad body',
      put('stock/k', bearer(writer), malformed),
      403,
      /namespace "stock" is not configured/,
    ],
    [
      'malformed namespace',
      put('Bad_NS/k', bearer(writer), malformed),
      403,
      /namespace "Bad_NS" is not configured/,
    ],
    [
      'not in the access list, bad body',
      put('orders/k', bearer(stranger), malformed),
      403,
      /does not allow subject "stranger" \(groups "others"\) to set/,
    ],
    [
      'a group without the verb, bad body',
      put('orders/k', bearer(reader), malformed),
      403,
      /does not allow subject "someone" \(groups "readers"\) to set/,
    ],
    [
      'scoped to another namespace',
      put('orders/k', bearer({ ...writer, namespaces: ['stock'] }), malformed),
      403,
      /the token does not grant namespace "orders"/,
    ],
    ['allowed, bad body', put('orders/k', bearer(writer), malformed), 400, /JSON/],
    [
      'allowed, key too long for the namespace',
      put(`orders/${'k'.repeat(300)}`, bearer(writer)),
      400,
      /key is 300 bytes; the limit is 256/,
    ],
  ];
  for (const [name, response, expected, message] of cases) {
    const { status: got, message: text } = await response;
    t.is(got, expected, `${name}: ${text}`);
    t.regex(text, message, name);
  }
});

test.serial(
  'REST: subjects and groups are allowed their verbs; a token scoped to the namespace works',
  async (t) => {
    t.is((await put('orders/k', bearer(writer))).status, 200);
    t.is((await rest('GET', 'orders/k', bearer(reader))).status, 200);
    t.is(
      (await rest('POST', 'orders/batch/get', bearer(reader), { keys: ['k'] })).status,
      200,
      'batch get is get',
    );
    t.is(
      (await rest('POST', 'orders/batch/set', bearer(reader), { entries: { k: { value: 'x' } } })).status,
      403,
      'batch set is set',
    );
    t.is((await rest('DELETE', 'orders/k', bearer(reader))).status, 403);
    t.is((await rest('GET', 'orders/k', bearer({ ...reader, namespaces: ['orders'] }))).status, 200);
    t.is((await rest('DELETE', 'orders/k', bearer(writer))).status, 200);
  },
);

test.serial('gRPC: the same order, as UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT', async (t) => {
  const client = cacheClient(plane.grpcAddress);
  t.teardown(() => client.close());
  const metadata = (authorization?: string) => {
    const md = new Metadata();
    if (authorization !== undefined) md.set('authorization', authorization);
    return md;
  };
  const set = (namespace: string, key: string, authorization?: string) =>
    invoke((cb) => client.Set({ namespace, key, value: Buffer.from('v') }, metadata(authorization), cb));
  const cases: Array<[string, ReturnType<typeof set>, status, string, RegExp]> = [
    [
      'no token',
      set('stock', '', undefined),
      status.UNAUTHENTICATED,
      'UNAUTHORIZED',
      /missing Authorization/,
    ],
    [
      'unknown namespace, empty key',
      set('stock', '', bearer(writer)),
      status.PERMISSION_DENIED,
      'FORBIDDEN',
      /"stock" is not configured/,
    ],
    [
      'not listed, empty key',
      set('orders', '', bearer(stranger)),
      status.PERMISSION_DENIED,
      'FORBIDDEN',
      /subject "stranger"/,
    ],
    [
      'a group without the verb',
      set('orders', 'k', bearer(reader)),
      status.PERMISSION_DENIED,
      'FORBIDDEN',
      /to set/,
    ],
    [
      'allowed, empty key',
      set('orders', '', bearer(writer)),
      status.INVALID_ARGUMENT,
      'INVALID_KEY',
      /non-empty/,
    ],
  ];
  for (const [name, call, code, errorCode, details] of cases) {
    const result = await call;
    t.is(result.error?.code, code, name);
    t.is(text(result.error?.metadata, ERROR_CODE_METADATA), errorCode, name);
    t.regex(result.error?.details ?? '', details, name);
  }
  const get = await invoke((cb) =>
    client.Get({ namespace: 'orders', key: 'k' }, metadata(bearer(reader)), cb),
  );
  t.is(get.error, undefined, 'a listed group may get');
});

test.serial(
  "over its namespace's rate limit: REST 429 with Retry-After, gRPC RESOURCE_EXHAUSTED; counted",
  async (t) => {
    // 1 token a second: each namespace's few calls below run well within that second.
    const limit = { opsPerSecond: 1, burst: 2 };
    source.push(
      snapshotOf({
        orders: configEntry('orders'),
        throttled: { ...configEntry('throttled'), rateLimit: limit },
        'throttled-grpc': { ...configEntry('throttled-grpc'), rateLimit: { ...limit, burst: 1 } },
      }),
    );
    t.is((await put('throttled/a', bearer(writer))).status, 200);
    t.is((await put('throttled/b', bearer(writer))).status, 200);
    const response = await fetch(`${plane.baseUrl}/api/v1/cache/throttled/a`, {
      headers: { authorization: bearer(writer) },
    });
    t.is(response.status, 429);
    t.is(response.headers.get('retry-after'), '1');
    t.like(await response.json(), { code: 'RATE_LIMITED' });
    t.is((await put('throttled/c', bearer(stranger))).status, 403, 'authorization comes first');
    const tooLong = await put(`throttled/${'k'.repeat(300)}`, bearer(writer));
    t.is(tooLong.status, 429, 'before the key is checked: refused before any work');
    t.is((await put('orders/k', bearer(writer))).status, 200, 'other namespaces are not limited');

    const client = cacheClient(plane.grpcAddress);
    t.teardown(() => client.close());
    const md = new Metadata();
    md.set('authorization', bearer(writer));
    const get = () => invoke((cb) => client.Get({ namespace: 'throttled-grpc', key: 'k' }, md, cb));
    t.is((await get()).error, undefined);
    const refused = await get();
    t.is(refused.error?.code, status.RESOURCE_EXHAUSTED);
    t.is(text(refused.error?.metadata, ERROR_CODE_METADATA), 'RATE_LIMITED');
    t.regex(refused.error?.details ?? '', /namespace "throttled-grpc" is over its rate limit/);

    const metrics = await (await fetch(`${plane.baseUrl}/metrics`)).text();
    t.regex(
      metrics,
      /cacheplane_requests_total\{transport="rest",operation="set",namespace="throttled",result="RATE_LIMITED"\} 1$/m,
    );
    t.regex(
      metrics,
      /cacheplane_requests_total\{transport="grpc",operation="get",namespace="throttled-grpc",result="RATE_LIMITED"\} 1$/m,
    );
  },
);

test.serial(
  'a namespace pushed at run time is served at once through the transports; removed, it is refused',
  async (t) => {
    source.push(snapshotOf({ orders: configEntry('orders'), stock: configEntry('stock') }));
    t.is((await put('stock/k', bearer(writer))).status, 200);
    source.push(snapshotOf({ orders: configEntry('orders') }));
    const refused = await rest('GET', 'stock/k', bearer(writer));
    t.is(refused.status, 403);
    t.regex(refused.message, /namespace "stock" is not configured/);
  },
);

test.serial('cacheplane_namespace_config_up follows the watch', async (t) => {
  const gauge = async () =>
    /^cacheplane_namespace_config_up (\d)$/m.exec(
      await (await fetch(`${plane.baseUrl}/metrics`)).text(),
    )?.[1];
  t.is(await gauge(), '1');
  source.connected = false;
  t.teardown(() => (source.connected = true));
  t.is(await gauge(), '0');
});

test.serial('ready once the first snapshot is in effect', async (t) => {
  const response = await fetch(`${plane.baseUrl}/ready`);
  t.is(response.status, 200);
});
