import Router from '@koa/router';
import test from 'ava';
import { ErrorCode } from '../../src/errors.ts';
import { BatchGetBody, BatchSetBody, SetBody } from '../../src/rest/body-schemas.ts';
import { addCacheRoutes } from '../../src/rest/cache-routes.ts';
import { addOpsRoutes } from '../../src/rest/ops-routes.ts';
import { RestErrorCode } from '../../src/rest/rest-error.ts';
import type { RestState } from '../../src/rest/rest-state.ts';
import type { TransportDeps } from '../../src/transport/transport-deps.ts';
import { openApiDocument, requestBodySchema, schemaFrom } from './openapi-validator.ts';

const paths = openApiDocument['paths'] as Record<string, Record<string, unknown>>;

test('every route the app serves is documented, and nothing else', (t) => {
  const router = new Router<RestState>();
  const deps = { limits: { maxRequestBytes: 1 }, metricsPath: '/metrics' } as TransportDeps;
  addCacheRoutes(router, deps);
  addOpsRoutes(router, deps, '{}');
  const served = router.stack.flatMap((layer) =>
    layer.methods
      .filter((method) => method !== 'HEAD')
      .map((method) => {
        const template = String(layer.path).replace(':namespace', '{namespace}').replace('*key', '{key}');
        return `${method.toLowerCase()} ${template}`;
      }),
  );
  const documented = Object.entries(paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => method !== 'parameters')
      .map((method) => `${method} ${path}`),
  );
  t.deepEqual(served.sort(), documented.sort());
});

test('every component schema compiles and every reference resolves', (t) => {
  const schemas = (openApiDocument['components'] as { schemas: Record<string, unknown> }).schemas;
  for (const name of Object.keys(schemas)) {
    t.notThrows(() => schemaFrom({ $ref: `#/components/schemas/${name}` }), name);
  }
});

test('the documented error codes are exactly the ones the server can answer', (t) => {
  const errorSchema = (
    openApiDocument['components'] as { schemas: Record<string, { properties: { code: { enum: string[] } } }> }
  ).schemas['Error'];
  t.deepEqual(
    [...(errorSchema?.properties.code.enum ?? [])].sort(),
    [...Object.values(ErrorCode), ...Object.values(RestErrorCode)].sort(),
  );
});

/** Bodies both the document and the server accept, and bodies both reject on their shape. */
const REQUEST_SAMPLES = [
  {
    path: '/api/v1/cache/{namespace}/{key}',
    method: 'put',
    server: SetBody,
    accepted: [{ value: '' }, { value: 'x', encoding: 'base64', ttlSeconds: 1, encrypt: false }],
    rejected: [
      {},
      { value: 1 },
      { value: 'x', ttlSeconds: 0 },
      { value: 'x', ttlSeconds: 1.5 },
      { value: 'x', ttl: 1 },
      [],
    ],
  },
  {
    path: '/api/v1/cache/{namespace}/batch/get',
    method: 'post',
    server: BatchGetBody,
    accepted: [{ keys: ['a'] }, { keys: ['a', 'b'], encoding: 'utf8' }],
    rejected: [{}, { keys: 'a' }, { keys: ['a'], encoding: 'hex' }, { keys: ['a'], extra: true }],
  },
  {
    path: '/api/v1/cache/{namespace}/batch/set',
    method: 'post',
    server: BatchSetBody,
    accepted: [
      { entries: { a: { value: 'x' } } },
      { entries: { a: { value: 'AA==', encoding: 'base64' } }, ttlSeconds: 5 },
    ],
    rejected: [
      {},
      { entries: { a: 'x' } },
      { entries: { a: { value: 'x', ttlSeconds: 1 } } },
      { entries: { a: { value: 'x' } }, ttlSeconds: -1 },
    ],
  },
];

for (const { path, method, server, accepted, rejected } of REQUEST_SAMPLES) {
  test(`the documented ${method.toUpperCase()} ${path} body accepts and rejects what the server does`, (t) => {
    const documented = requestBodySchema(path, method);
    for (const body of accepted) {
      t.true(documented.safeParse(body).success, `document accepts ${JSON.stringify(body)}`);
      t.true(server.safeParse(body).success, `server accepts ${JSON.stringify(body)}`);
    }
    for (const body of rejected) {
      t.false(documented.safeParse(body).success, `document rejects ${JSON.stringify(body)}`);
      t.false(server.safeParse(body).success, `server rejects ${JSON.stringify(body)}`);
    }
  });
}
