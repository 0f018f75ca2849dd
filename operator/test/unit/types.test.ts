import test from 'ava';
import { DEFAULTS, cacheNamespaceOf, parseCacheNamespace } from '../../src/api/types.ts';
import { durationMs, memoryBytes } from '../../src/api/units.ts';
import { rawCacheNamespace } from '../support/resources.ts';

const ACCESS = [{ subjects: ['svc'], verbs: ['get'] }];

test('a minimal spec is completed with every default', (t) => {
  const parsed = parseCacheNamespace(rawCacheNamespace({ spec: { access: ACCESS } }));
  if (!parsed.ok) return t.fail(parsed.problems.join('; '));
  t.deepEqual(parsed.resource.spec, {
    ...DEFAULTS,
    access: [{ subjects: ['svc'], groups: [], verbs: ['get'] }],
  });
  t.is(cacheNamespaceOf(parsed.resource), 'orders');
});

const invalid: Array<{ case: string; spec?: Record<string, unknown>; name?: string; problem: RegExp }> = [
  { case: 'no access rules', spec: {}, problem: /^spec\.access: / },
  { case: 'empty access list', spec: { access: [] }, problem: /^spec\.access: / },
  {
    case: 'a rule naming nobody',
    spec: { access: [{ verbs: ['get'] }] },
    problem: /^spec\.access\[0\]: an access rule needs/,
  },
  {
    case: 'an unknown verb',
    spec: { access: [{ groups: ['g'], verbs: ['admin'] }] },
    problem: /^spec\.access\[0\]\.verbs\[0\]/,
  },
  {
    case: 'a repeated verb',
    spec: { access: [{ groups: ['g'], verbs: ['get', 'get'] }] },
    problem: /must not repeat a verb/,
  },
  {
    case: 'a wildcard subject',
    spec: { access: [{ subjects: ['*'], verbs: ['get'] }] },
    problem: /must not contain whitespace or "\*"/,
  },
  {
    case: "':' in the cache namespace",
    spec: { cacheNamespace: 'a:b', access: ACCESS },
    problem: /^spec\.cacheNamespace: .*DNS label/,
  },
  {
    case: "'*' in the cache namespace",
    spec: { cacheNamespace: 'a*', access: ACCESS },
    problem: /^spec\.cacheNamespace/,
  },
  {
    case: 'upper case in the cache namespace',
    spec: { cacheNamespace: 'Orders', access: ACCESS },
    problem: /^spec\.cacheNamespace/,
  },
  {
    case: 'a 64-character cache namespace',
    spec: { cacheNamespace: 'a'.repeat(64), access: ACCESS },
    problem: /^spec\.cacheNamespace/,
  },
  {
    case: 'a day unit',
    spec: { defaultTTL: '1d', access: ACCESS },
    problem: /^spec\.defaultTTL: .*duration such as/,
  },
  {
    case: 'a TTL under 1s',
    spec: { defaultTTL: '999ms', access: ACCESS },
    problem: /^spec\.defaultTTL: .*between 1s and 8760h/,
  },
  {
    case: 'a TTL over a year',
    spec: { maxTTL: '8761h', access: ACCESS },
    problem: /^spec\.maxTTL: .*between/,
  },
  {
    case: 'defaultTTL over maxTTL',
    spec: { defaultTTL: '2h', maxTTL: '1h', access: ACCESS },
    problem: /^spec\.defaultTTL: defaultTTL must not exceed maxTTL/,
  },
  {
    case: 'defaultTTL over the default maxTTL',
    spec: { defaultTTL: '721h', access: ACCESS },
    problem: /must not exceed maxTTL/,
  },
  { case: 'a zero value size', spec: { maxValueBytes: 0, access: ACCESS }, problem: /^spec\.maxValueBytes/ },
  {
    case: 'a value size over 512 MiB',
    spec: { maxValueBytes: 536_870_913, access: ACCESS },
    problem: /^spec\.maxValueBytes/,
  },
  {
    case: 'a fractional key size',
    spec: { maxKeyBytes: 1.5, access: ACCESS },
    problem: /^spec\.maxKeyBytes/,
  },
  {
    case: 'a memory size without suffix',
    spec: { localCache: { maxMemory: '64' }, access: ACCESS },
    problem: /^spec\.localCache\.maxMemory: .*such as 64Mi/,
  },
  {
    case: 'a decimal-suffix memory size',
    spec: { localCache: { maxMemory: '64M' }, access: ACCESS },
    problem: /^spec\.localCache\.maxMemory/,
  },
  {
    case: 'less than 1Mi',
    spec: { localCache: { maxMemory: '1023Ki' }, access: ACCESS },
    problem: /between 1Mi and 64Gi/,
  },
  {
    case: 'more than 64Gi',
    spec: { localCache: { maxMemory: '65Gi' }, access: ACCESS },
    problem: /between 1Mi and 64Gi/,
  },
  {
    case: 'an unknown eviction policy',
    spec: { localCache: { evictionPolicy: 'fifo' }, access: ACCESS },
    problem: /^spec\.localCache\.evictionPolicy/,
  },
  {
    case: 'an unknown encryption mode',
    spec: { encryption: { mode: 'always' }, access: ACCESS },
    problem: /^spec\.encryption\.mode/,
  },
  {
    case: 'a rotation under an hour',
    spec: { encryption: { rotationPeriod: '59m' }, access: ACCESS },
    problem: /^spec\.encryption\.rotationPeriod: .*between 1h/,
  },
  {
    case: 'a burst under the rate',
    spec: { rateLimit: { opsPerSecond: 10, burst: 5 }, access: ACCESS },
    problem: /^spec\.rateLimit\.burst: burst must be at least/,
  },
  {
    case: 'a rate limit without rate',
    spec: { rateLimit: {}, access: ACCESS },
    problem: /^spec\.rateLimit\.opsPerSecond/,
  },
  {
    case: 'a metadata.name that is no DNS label',
    name: 'orders.v2',
    problem: /^metadata\.name: .*DNS label/,
  },
];

for (const row of invalid) {
  test(`rejected: ${row.case}`, (t) => {
    const parsed = parseCacheNamespace(
      rawCacheNamespace({ spec: row.spec ?? { access: ACCESS }, name: row.name }),
    );
    if (parsed.ok) return t.fail('accepted');
    t.true(
      parsed.problems.some((problem) => row.problem.test(problem)),
      parsed.problems.join('\n'),
    );
  });
}

test('every problem is reported, one line each', (t) => {
  const parsed = parseCacheNamespace(
    rawCacheNamespace({ spec: { maxKeyBytes: 0, localCache: { evictionPolicy: 'fifo' }, access: [] } }),
  );
  if (parsed.ok) return t.fail('accepted');
  t.is(parsed.problems.length, 3, parsed.problems.join('\n'));
});

test('objects that are not CacheNamespaces are rejected', (t) => {
  for (const object of [null, 'x', {}, { ...rawCacheNamespace(), kind: 'ConfigMap' }]) {
    t.false(parseCacheNamespace(object).ok);
  }
  const withoutUid = rawCacheNamespace();
  delete (withoutUid['metadata'] as Record<string, unknown>)['uid'];
  t.false(parseCacheNamespace(withoutUid).ok);
});

const durations: Array<[string, number]> = [
  ['1s', 1000],
  ['1500ms', 1500],
  ['90s', 90_000],
  ['1h30m', 5_400_000],
  ['1h0m0s0ms', 3_600_000],
  ['720h', 2_592_000_000],
  ['999999h', 999_999 * 3_600_000],
];
for (const [text, ms] of durations) {
  test(`duration ${text} = ${ms} ms`, (t) => t.is(durationMs(text), ms));
}
for (const text of ['', '1', '1d', '1.5h', '-1s', '1h 30m', '1000000s', '1s1s1s1s1s', '1H']) {
  test(`not a duration: ${JSON.stringify(text)}`, (t) => {
    t.throws(() => durationMs(text), { message: /is not a duration/ });
  });
}

const sizes: Array<[string, number]> = [
  ['1Ki', 1024],
  ['1024Ki', 1_048_576],
  ['64Mi', 67_108_864],
  ['64Gi', 68_719_476_736],
];
for (const [text, bytes] of sizes) {
  test(`memory ${text} = ${bytes} bytes`, (t) => t.is(memoryBytes(text), bytes));
}
for (const text of ['', '64', '64M', '64mi', '0Mi', '064Mi', '1.5Gi', '1Ti']) {
  test(`not a memory size: ${JSON.stringify(text)}`, (t) => {
    t.throws(() => memoryBytes(text), { message: /is not a memory size/ });
  });
}
