import test from 'ava';
import { parseNamespaceEntry } from '../../src/tenancy/namespace-entry.ts';
import { configEntry, entryText } from '../support/tenancy-fixture.ts';

type Entry = Record<string, unknown>;

/** A copy of `entry` with `path` set to `value` (or removed when `value` is undefined). */
function withField(entry: Entry, path: string, value: unknown): Entry {
  const copy = structuredClone(entry);
  const names = path.split('.');
  const last = names.pop() as string;
  let target = copy;
  for (const name of names) target = target[name] as Entry;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

test('an entry as the operator renders it is read, with every field the data plane uses', (t) => {
  const result = parseNamespaceEntry('orders.json', entryText(configEntry('orders')));
  if (!result.ok) return t.fail(result.problem);
  t.is(result.entry.namespace, 'orders');
  t.deepEqual(result.entry.limits, {
    defaultTtlMs: 600_000,
    maxTtlMs: 3_600_000,
    maxValueBytes: 4096,
    maxKeyBytes: 256,
  });
  t.deepEqual(result.entry.localCache, {
    enabled: true,
    maxEntries: 1000,
    maxMemoryBytes: 1 << 20,
    evictionPolicy: 'lru',
  });
  t.deepEqual(result.entry.redis.credentials, {
    usernameKey: 'orders.username',
    passwordKey: 'orders.password',
  });
  t.is(result.entry.access.length, 2);
  t.is(result.entry.rateLimit, null);
});

test('a rate limit is read; an entry without the field has none', (t) => {
  const limited = { ...configEntry('orders'), rateLimit: { opsPerSecond: 10, burst: 20 } };
  const result = parseNamespaceEntry('orders.json', entryText(limited));
  if (!result.ok) return t.fail(result.problem);
  t.deepEqual(result.entry.rateLimit, { opsPerSecond: 10, burst: 20 });
  const absent = parseNamespaceEntry(
    'orders.json',
    entryText(withField(configEntry('orders'), 'rateLimit', undefined)),
  );
  if (!absent.ok) return t.fail(absent.problem);
  t.is(absent.entry.rateLimit, null);
});

test("the operator's own renderer produces entries the data plane reads (the public interface)", async (t) => {
  // Loaded by path: the operator's project builds on this one, not the other way round.
  const operatorModule = new URL('../../../operator/src/desired/config-entry.ts', import.meta.url).href;
  const { renderConfigEntry } = (await import(operatorModule)) as {
    renderConfigEntry: (entry: unknown) => string;
  };
  const rendered = renderConfigEntry({
    ...configEntry('orders'),
    rateLimit: { opsPerSecond: 10, burst: 20 },
  });
  const result = parseNamespaceEntry('orders.json', rendered);
  t.true(result.ok, result.ok ? '' : result.problem);
});

const accepted: Array<[string, Entry]> = [
  ['unknown top-level fields', { ...configEntry('orders'), quota: { bytes: 1 } }],
  ['unknown nested fields', withField(configEntry('orders'), 'limits.maxBatchSize', 7)],
  [
    'an encryption block of a later shape',
    withField(configEntry('orders'), 'encryption', { mode: 'required', keyRef: 'k' }),
  ],
  ['no rate limit field at all', withField(configEntry('orders'), 'rateLimit', undefined)],
  ['an empty access list', withField(configEntry('orders'), 'access', [])],
  ['a local cache turned off', withField(configEntry('orders'), 'localCache.enabled', false)],
];

for (const [name, entry] of accepted) {
  test(`accepted: ${name}`, (t) => {
    const result = parseNamespaceEntry('orders.json', entryText(entry));
    t.true(result.ok, result.ok ? '' : result.problem);
  });
}

const refused: Array<[string, string, string, RegExp]> = [
  ['text that is not JSON', 'orders.json', '{"schemaVersion": 1,', /"orders.json": not JSON/],
  [
    'a later schema version',
    'orders.json',
    entryText(withField(configEntry('orders'), 'schemaVersion', 2)),
    /schemaVersion 2 is not supported: this data plane reads version 1/,
  ],
  [
    'no schema version',
    'orders.json',
    entryText(withField(configEntry('orders'), 'schemaVersion', undefined)),
    /schemaVersion:/,
  ],
  ['a JSON array', 'orders.json', '[]', /"orders.json": .*expected object/],
  [
    'an entry of another namespace',
    'orders.json',
    entryText(configEntry('payments')),
    /"orders.json": holds the entry of namespace "payments", not "orders"/,
  ],
  [
    'a key that is not <namespace>.json',
    'orders.yaml',
    entryText(configEntry('orders')),
    /"orders.yaml": not an entry/,
  ],
  [
    'a key whose namespace is not a DNS label',
    'Orders.json',
    entryText(configEntry('Orders')),
    /"Orders.json": not an entry/,
  ],
  [
    'a negative TTL',
    'orders.json',
    entryText(withField(configEntry('orders'), 'limits.maxTtlMs', -1)),
    /limits\.maxTtlMs:/,
  ],
  [
    'a fractional size',
    'orders.json',
    entryText(withField(configEntry('orders'), 'limits.maxValueBytes', 1.5)),
    /limits\.maxValueBytes:/,
  ],
  [
    'a default TTL above the maximum',
    'orders.json',
    entryText(withField(configEntry('orders'), 'limits.defaultTtlMs', 7_200_000)),
    /limits\.defaultTtlMs: must not exceed limits\.maxTtlMs/,
  ],
  [
    'missing limits',
    'orders.json',
    entryText(withField(configEntry('orders'), 'limits', undefined)),
    /limits:/,
  ],
  [
    'an unknown eviction policy',
    'orders.json',
    entryText(withField(configEntry('orders'), 'localCache.evictionPolicy', 'fifo')),
    /localCache\.evictionPolicy:/,
  ],
  [
    'an unknown verb',
    'orders.json',
    entryText(
      withField(configEntry('orders'), 'access', [{ subjects: ['a'], groups: [], verbs: ['admin'] }]),
    ),
    /access\.0\.verbs\.0:/,
  ],
  [
    'a subjects list that is a string',
    'orders.json',
    entryText(withField(configEntry('orders'), 'access', [{ subjects: 'a', groups: [], verbs: ['get'] }])),
    /access\.0\.subjects:/,
  ],
  [
    'a key prefix other than "<namespace>:"',
    'orders.json',
    entryText(withField(configEntry('orders'), 'redis.keyPrefix', 'orders-')),
    /redis\.keyPrefix: must be "orders:"/,
  ],
  [
    'a rate limit of 0 operations per second',
    'orders.json',
    entryText(withField(configEntry('orders'), 'rateLimit', { opsPerSecond: 0, burst: 1 })),
    /rateLimit\.opsPerSecond:/,
  ],
  [
    'a rate limit without a burst',
    'orders.json',
    entryText(withField(configEntry('orders'), 'rateLimit', { opsPerSecond: 5 })),
    /rateLimit\.burst:/,
  ],
  [
    'an empty password key',
    'orders.json',
    entryText(withField(configEntry('orders'), 'redis.credentials.passwordKey', '')),
    /redis\.credentials\.passwordKey:/,
  ],
];

for (const [name, key, text, message] of refused) {
  test(`refused, naming the key and the field: ${name}`, (t) => {
    const result = parseNamespaceEntry(key, text);
    if (result.ok) return t.fail('the entry was accepted');
    t.regex(result.problem, new RegExp(`^ConfigMap key "${key.replace('.', '\\.')}": `));
    t.regex(result.problem, message);
  });
}

test('every problem of an entry is reported at once', (t) => {
  let entry = withField(configEntry('orders'), 'limits.maxKeyBytes', 0);
  entry = withField(entry, 'localCache.maxEntries', 'many');
  const result = parseNamespaceEntry('orders.json', entryText(entry));
  if (result.ok) return t.fail('the entry was accepted');
  t.regex(result.problem, /limits\.maxKeyBytes:.*; localCache\.maxEntries:/);
});
