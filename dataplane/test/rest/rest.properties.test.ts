import { isUtf8 } from 'node:buffer';
import test from 'ava';
import fc from 'fast-check';
import { buildTestStack, standaloneEnv } from '../support/cache-fixture.ts';
import { startRedisStandalone } from '../support/redis-harness.ts';
import { makeToken, TOKEN_KINDS } from './jwt-tokens.ts';
import { responseBodySchema, templateOf } from './openapi-validator.ts';
import {
  NAMESPACE,
  batchPath,
  keyPath,
  startRestHarness,
  type RequestOptions,
  type RestResponse,
} from './rest-harness.ts';

const RUNS = { numRuns: 100, seed: 12345 } as const;

// --- Property 9 -------------------------------------------------------------------------------

type Encoding = 'utf8' | 'base64';

interface Value {
  bytes: Buffer;
  encoding: Encoding;
}

type Op =
  | { kind: 'put'; key: number; value: Value; ttlSeconds: number | undefined }
  | { kind: 'get'; key: number; encoding: Encoding | undefined }
  | { kind: 'delete'; key: number }
  | { kind: 'batchGet'; keys: number[]; encoding: Encoding | undefined }
  | { kind: 'batchSet'; entries: Array<{ key: number; value: Value }>; ttlSeconds: number | undefined };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const keyArb = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((key) => !CONTROL.test(key)),
  fc.constantFrom(
    'batch',
    'batch/get',
    'batch/set',
    'a/b',
    'trailing/',
    '%',
    '%25',
    'with space',
    '__proto__',
  ),
);
const valueArb: fc.Arbitrary<Value> = fc.oneof(
  fc
    .uint8Array({ maxLength: 48 })
    .map((bytes) => ({ bytes: Buffer.from(bytes), encoding: 'base64' as const })),
  fc
    .string({ unit: 'grapheme', maxLength: 24 })
    .map((text) => ({ bytes: Buffer.from(text), encoding: 'utf8' as const })),
);
const encodingArb = fc.constantFrom<Encoding | undefined>(undefined, 'utf8', 'base64');
const ttlArb = fc.option(fc.integer({ min: 1, max: 86_400 }), { nil: undefined });

function opArb(poolSize: number): fc.Arbitrary<Op> {
  const index = fc.nat({ max: poolSize - 1 });
  return fc.oneof(
    fc.record({ kind: fc.constant('put' as const), key: index, value: valueArb, ttlSeconds: ttlArb }),
    fc.record({ kind: fc.constant('get' as const), key: index, encoding: encodingArb }),
    fc.record({ kind: fc.constant('delete' as const), key: index }),
    fc.record({
      kind: fc.constant('batchGet' as const),
      keys: fc.uniqueArray(index, { minLength: 1, maxLength: poolSize }),
      encoding: encodingArb,
    }),
    fc.record({
      kind: fc.constant('batchSet' as const),
      entries: fc.uniqueArray(fc.record({ key: index, value: valueArb }), {
        minLength: 1,
        maxLength: poolSize,
        selector: (entry) => entry.key,
      }),
      ttlSeconds: ttlArb,
    }),
  );
}

const scenarioArb = fc.uniqueArray(keyArb, { minLength: 1, maxLength: 5 }).chain((keys) =>
  fc.record({
    keys: fc.constant(keys),
    ops: fc.array(opArb(keys.length), { minLength: 1, maxLength: 12 }),
  }),
);

const wire = (value: Value) =>
  value.encoding === 'base64'
    ? { value: value.bytes.toString('base64'), encoding: 'base64' }
    : { value: value.bytes.toString('utf8') };

const query = (encoding: Encoding | undefined): string =>
  encoding === undefined ? '' : `?encoding=${encoding}`;

/** The bytes of a response value, checking that the server chose the encoding the contract says. */
function decoded(
  check: Checker,
  entry: { value: string; encoding: Encoding },
  expected: Buffer,
  asked: Encoding | undefined,
): Buffer {
  check.is(
    entry.encoding,
    asked !== 'base64' && isUtf8(expected) ? 'utf8' : 'base64',
    'utf8 iff UTF-8 bytes and base64 not asked for',
  );
  return Buffer.from(entry.value, entry.encoding);
}

interface Checker {
  is(actual: unknown, expected: unknown, message: string): void;
}

test('Property 9: REST JSON Payload Consistency', async (t) => {
  // The real cache service on a real Redis: responses are what users get, not what a fake says.
  const redis = await startRedisStandalone();
  const stack = await buildTestStack(standaloneEnv(redis));
  t.teardown(async () => {
    await stack.close();
    await redis.stop();
  });
  const api = await startRestHarness(t, { service: stack.cache });
  let run = 0;

  await fc.assert(
    fc.asyncProperty(scenarioArb, async ({ keys: pool, ops }) => {
      // Every run has a key space of its own on the one server.
      const prefix = `run${(run += 1)}/`;
      const keys = pool.map((key) => prefix + key);
      const model = new Map<string, Buffer>();
      const failures: string[] = [];
      const check: Checker = {
        is(actual, expected, message) {
          if (actual !== expected) failures.push(`${message}: ${String(actual)} !== ${String(expected)}`);
        },
      };

      const send = async (
        method: string,
        path: string,
        options: RequestOptions = {},
      ): Promise<RestResponse> => {
        const response = await api.request(method, path, options);
        check.is(response.json !== undefined, true, `${method} ${path} answers JSON`);
        check.is(/^application\/json/.test(response.headers.get('content-type') ?? ''), true, 'content-type');
        check.is(response.headers.get('x-correlation-id') !== null, true, 'x-correlation-id');
        const schema = responseBodySchema(templateOf(method, path), method.toLowerCase(), response.status);
        const parsed = schema.safeParse(response.json);
        if (!parsed.success)
          failures.push(`${method} ${path} ${response.status}: ${parsed.error.message} in ${response.text}`);
        return response;
      };

      for (const op of ops) {
        switch (op.kind) {
          case 'put': {
            const key = keys[op.key] as string;
            const response = await send('PUT', keyPath(key), {
              body: {
                ...wire(op.value),
                ...(op.ttlSeconds === undefined ? {} : { ttlSeconds: op.ttlSeconds }),
              },
            });
            check.is(response.status, 200, 'PUT status');
            model.set(key, op.value.bytes);
            break;
          }
          case 'get': {
            const key = keys[op.key] as string;
            const response = await send('GET', keyPath(key) + query(op.encoding));
            const expected = model.get(key);
            check.is(response.status, expected === undefined ? 404 : 200, 'GET status');
            if (expected !== undefined && response.status === 200) {
              const bytes = decoded(
                check,
                response.json as { value: string; encoding: Encoding },
                expected,
                op.encoding,
              );
              check.is(bytes.equals(expected), true, 'GET returns the last value written');
            }
            break;
          }
          case 'delete': {
            const key = keys[op.key] as string;
            const response = await send('DELETE', keyPath(key));
            check.is(response.status, 200, 'DELETE status');
            check.is(
              (response.json as { deleted: boolean }).deleted,
              model.delete(key),
              'deleted iff present',
            );
            break;
          }
          case 'batchGet': {
            const asked = op.keys.map((index) => keys[index] as string);
            const response = await send('POST', batchPath('get'), {
              body: { keys: asked, ...(op.encoding === undefined ? {} : { encoding: op.encoding }) },
            });
            check.is(response.status, 200, 'batch get status');
            const body = response.json as {
              values: Record<string, { value: string; encoding: Encoding }>;
              missingKeys: string[];
            };
            for (const key of asked) {
              const expected = model.get(key);
              const entry = Object.hasOwn(body.values, key) ? body.values[key] : undefined;
              check.is(entry !== undefined, expected !== undefined, `batch get finds ${key} iff present`);
              check.is(
                body.missingKeys.includes(key),
                expected === undefined,
                `batch get misses ${key} iff absent`,
              );
              if (entry !== undefined && expected !== undefined) {
                check.is(
                  decoded(check, entry, expected, op.encoding).equals(expected),
                  true,
                  'batch get value',
                );
              }
            }
            break;
          }
          case 'batchSet': {
            const entries = Object.fromEntries(
              op.entries.map(({ key, value }) => [keys[key] as string, wire(value)]),
            );
            const response = await send('POST', batchPath('set'), {
              body: { entries, ...(op.ttlSeconds === undefined ? {} : { ttlSeconds: op.ttlSeconds }) },
            });
            check.is(response.status, 200, 'batch set status');
            check.is(
              (response.json as { storedCount: number }).storedCount,
              op.entries.length,
              'storedCount',
            );
            for (const { key, value } of op.entries) model.set(keys[key] as string, value.bytes);
            break;
          }
        }
      }
      if (failures.length > 0) throw new Error(failures.join('\n'));
    }),
    RUNS,
  );
  t.pass();
});

// --- Property 10 ------------------------------------------------------------------------------

const REQUESTS: Array<{ method: string; path: string; body?: unknown }> = [
  { method: 'GET', path: keyPath('k') },
  { method: 'PUT', path: keyPath('k'), body: { value: 'v' } },
  { method: 'DELETE', path: keyPath('k') },
  { method: 'POST', path: batchPath('get'), body: { keys: ['k'] } },
  { method: 'POST', path: batchPath('set'), body: { entries: { k: { value: 'v' } } } },
];

test('Property 10: JWT Authentication', async (t) => {
  const api = await startRestHarness(t);
  const tokenArb = fc.record({
    kind: fc.constantFrom(...TOKEN_KINDS),
    namespaces: fc
      .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), { maxLength: 3 })
      .map((others) => [NAMESPACE, ...others]),
    offsetSeconds: fc.integer({ min: 2, max: 1_000_000 }),
    subject: fc.string({ maxLength: 20 }),
  });

  await fc.assert(
    fc.asyncProperty(tokenArb, fc.constantFrom(...REQUESTS), async (spec, request) => {
      const callsBefore = api.cache.calls.length;
      const response = await api.request(request.method, request.path, {
        token: makeToken(spec),
        body: request.body,
      });
      const processed = api.cache.calls.length > callsBefore;
      if (spec.kind === 'valid') {
        if (!processed || (response.status !== 200 && response.status !== 404)) {
          throw new Error(`a valid token was refused: ${response.status} ${response.text}`);
        }
      } else {
        const body = response.json as { code?: string } | undefined;
        if (processed || response.status !== 401 || body?.code !== 'UNAUTHORIZED') {
          throw new Error(
            `a ${spec.kind} token was not refused with 401: ${response.status} ${response.text}`,
          );
        }
      }
    }),
    RUNS,
  );
  t.pass();
});
