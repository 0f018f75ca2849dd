import { Metadata, status } from '@grpc/grpc-js';
import test from 'ava';
import type { GetResponse__Output } from '../../src/generated/cache/v1/GetResponse.ts';
import { ERROR_CODE_METADATA } from '../../src/grpc/grpc-failure.ts';
import { UNAUTHORIZED_NAMESPACE_LABEL } from '../../src/grpc/unary-call.ts';
import {
  bearer,
  invoke,
  metadataOf,
  NAMESPACE,
  startGrpcHarness,
  text,
  token,
  type GrpcHarness,
} from './grpc-harness.ts';
import { makeToken, type TokenKind } from './tokens.ts';

function get(h: GrpcHarness, metadata: Metadata, namespace = NAMESPACE) {
  return invoke<GetResponse__Output>((cb) => h.client.Get({ namespace, key: 'k' }, metadata, cb));
}

const spec = (kind: TokenKind) =>
  makeToken({ kind, namespaces: [NAMESPACE], subject: 'svc', offsetSeconds: 120 });

const UNAUTHENTICATED_CASES: Array<[string, Metadata, RegExp]> = [
  ['no authorization metadata', new Metadata(), /missing Authorization/],
  ['a bearer value that is no JWT', metadataOf({ authorization: 'Bearer not-a-jwt' }), /not "Bearer <JWT>"/],
  ['another scheme', metadataOf({ authorization: 'Basic dXNlcjpwYXNz' }), /not "Bearer <JWT>"/],
  ['a bare token without "Bearer"', metadataOf({ authorization: spec('valid') }), /not "Bearer <JWT>"/],
  ['an expired token', bearer(spec('expired')), /jwt expired/],
  ['a token not valid yet', bearer(spec('not-yet-valid')), /jwt not active/],
  ['a token signed with another secret', bearer(spec('wrong-secret')), /invalid signature/],
  ['a tampered payload', bearer(spec('tampered')), /invalid signature/],
  ['alg none', bearer(spec('alg-none')), /invalid token/],
  ['no namespaces claim', bearer(spec('no-namespaces')), /"namespaces" claim/],
];

for (const [name, metadata, details] of UNAUTHENTICATED_CASES) {
  test(`UNAUTHENTICATED for ${name}`, async (t) => {
    const h = await startGrpcHarness(t);
    const result = await get(h, metadata);
    t.is(result.error?.code, status.UNAUTHENTICATED);
    t.regex(result.error?.details ?? '', details);
    t.is(text(result.error?.metadata, ERROR_CODE_METADATA), 'UNAUTHORIZED');
    t.deepEqual(h.cache.calls, [], 'the cache is never reached');
    t.like(h.metrics.requests, [{ namespace: UNAUTHORIZED_NAMESPACE_LABEL, result: 'UNAUTHORIZED' }]);
  });
}

test('PERMISSION_DENIED for a namespace the token does not grant, on every RPC', async (t) => {
  const h = await startGrpcHarness(t);
  const md = bearer(token(['team-b']));
  const results = [
    await get(h, md),
    await invoke((cb) => h.client.Set({ namespace: NAMESPACE, key: 'k', value: Buffer.from('v') }, md, cb)),
    await invoke((cb) => h.client.Delete({ namespace: NAMESPACE, key: 'k' }, md, cb)),
    await invoke((cb) => h.client.BatchGet({ namespace: NAMESPACE, keys: ['k'] }, md, cb)),
    await invoke((cb) =>
      h.client.BatchSet({ namespace: NAMESPACE, entries: { k: Buffer.from('v') } }, md, cb),
    ),
  ];
  for (const result of results) {
    t.is(result.error?.code, status.PERMISSION_DENIED);
    t.is(result.error?.details, `the token does not grant namespace "${NAMESPACE}"`);
  }
  t.deepEqual(h.cache.calls, []);
  t.true(h.metrics.requests.every((request) => request.result === 'FORBIDDEN'));
});

test('a valid token reaches exactly the namespaces it grants', async (t) => {
  const h = await startGrpcHarness(t);
  const md = bearer(token(['team-b', NAMESPACE]));
  t.is((await get(h, md)).status.code, status.OK);
  t.is((await get(h, md, 'team-b')).status.code, status.OK);
  t.is((await get(h, md, 'team-c')).error?.code, status.PERMISSION_DENIED);
});

test('Health answers without a token, and with a bad one', async (t) => {
  const h = await startGrpcHarness(t);
  for (const metadata of [new Metadata(), metadataOf({ authorization: 'Bearer garbage' })]) {
    const result = await invoke((cb) => h.client.Health({}, metadata, cb));
    t.is(result.status.code, status.OK);
  }
});
