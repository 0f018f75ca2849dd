import test from 'ava';
import { NamespaceRegistry, type NamespaceChange } from '../../src/tenancy/namespace-registry.ts';
import type { NamespaceConfigSnapshot } from '../../src/tenancy/namespace-source.ts';
import { configEntry, credentialsOf, entryText, snapshotOf } from '../support/tenancy-fixture.ts';

/** A change as `kind namespace`, for compact expectations. */
const brief = (changes: readonly NamespaceChange[]): string[] =>
  changes.map((change) => `${change.kind} ${change.namespace}`).sort();

const orders = configEntry('orders');
const payments = configEntry('payments');
const ordersWithLimits = configEntry('orders', { limits: { maxValueBytes: 100 } });
const credentials = { ...credentialsOf('orders', 'pw-o'), ...credentialsOf('payments', 'pw-p') };

interface Step {
  snapshot: NamespaceConfigSnapshot;
  changes: string[];
  problems: string[];
  served: string[];
}

const sequences: Array<[string, Step[]]> = [
  [
    'added, then unchanged, then changed, then removed',
    [
      {
        snapshot: snapshotOf({ orders, payments }, credentials),
        changes: ['added orders', 'added payments'],
        problems: [],
        served: ['orders', 'payments'],
      },
      {
        snapshot: snapshotOf({ orders, payments }, credentials),
        changes: [],
        problems: [],
        served: ['orders', 'payments'],
      },
      {
        snapshot: snapshotOf({ orders: ordersWithLimits, payments }, credentials),
        changes: ['changed orders'],
        problems: [],
        served: ['orders', 'payments'],
      },
      {
        snapshot: snapshotOf({ payments }, credentials),
        changes: ['removed orders'],
        problems: [],
        served: ['payments'],
      },
      { snapshot: snapshotOf({}, {}), changes: ['removed payments'], problems: [], served: [] },
    ],
  ],
  [
    'a Secret change alone changes the namespace',
    [
      { snapshot: snapshotOf({ orders }, {}), changes: ['added orders'], problems: [], served: ['orders'] },
      {
        snapshot: snapshotOf({ orders }, credentialsOf('orders', 'pw')),
        changes: ['changed orders'],
        problems: [],
        served: ['orders'],
      },
      {
        snapshot: snapshotOf({ orders }, credentialsOf('orders', 'pw2')),
        changes: ['changed orders'],
        problems: [],
        served: ['orders'],
      },
      {
        snapshot: snapshotOf({ orders }, { ...credentialsOf('orders', 'pw2'), 'other.password': 'x' }),
        changes: [],
        problems: [],
        served: ['orders'],
      },
    ],
  ],
  [
    'a brand-new bad entry is not served; fixed, it is added',
    [
      {
        snapshot: { entries: { 'orders.json': '{' }, credentials },
        changes: [],
        problems: ['orders.json'],
        served: [],
      },
      { snapshot: { entries: { 'orders.json': '{' }, credentials }, changes: [], problems: [], served: [] },
      {
        snapshot: snapshotOf({ orders }, credentials),
        changes: ['added orders'],
        problems: [],
        served: ['orders'],
      },
    ],
  ],
  [
    'a bad update keeps the previous good entry until fixed or removed',
    [
      {
        snapshot: snapshotOf({ orders }, credentials),
        changes: ['added orders'],
        problems: [],
        served: ['orders'],
      },
      {
        snapshot: { entries: { 'orders.json': '{"schemaVersion": 9}' }, credentials },
        changes: [],
        problems: ['orders.json (kept)'],
        served: ['orders'],
      },
      {
        snapshot: { entries: { 'orders.json': '{"schemaVersion": 9}' }, credentials },
        changes: [],
        problems: [],
        served: ['orders'],
      },
      {
        snapshot: { entries: { 'orders.json': 'null' }, credentials },
        changes: [],
        problems: ['orders.json (kept)'],
        served: ['orders'],
      },
      {
        snapshot: snapshotOf({ orders: ordersWithLimits }, credentials),
        changes: ['changed orders'],
        problems: [],
        served: ['orders'],
      },
      {
        snapshot: { entries: { 'orders.json': '[]' }, credentials },
        changes: [],
        problems: ['orders.json (kept)'],
        served: ['orders'],
      },
      { snapshot: snapshotOf({}, credentials), changes: ['removed orders'], problems: [], served: [] },
    ],
  ],
  [
    "an entry under another namespace's key is refused",
    [
      {
        snapshot: { entries: { 'orders.json': entryText(payments) }, credentials },
        changes: [],
        problems: ['orders.json'],
        served: [],
      },
    ],
  ],
];

for (const [name, steps] of sequences) {
  test(`registry: ${name}`, (t) => {
    const registry = new NamespaceRegistry();
    steps.forEach((step, index) => {
      const result = registry.apply(step.snapshot);
      t.deepEqual(brief(result.changes), step.changes, `step ${index}: changes`);
      t.deepEqual(
        result.problems.map((problem) => `${problem.key}${problem.keptPrevious ? ' (kept)' : ''}`),
        step.problems,
        `step ${index}: problems`,
      );
      t.deepEqual(registry.namespaces().sort(), step.served, `step ${index}: served`);
    });
  });
}

test('credentials are found under the keys the entry names; missing or empty ones are listed', (t) => {
  const registry = new NamespaceRegistry();
  registry.apply(
    snapshotOf(
      { orders, payments, stock: configEntry('stock') },
      { ...credentialsOf('orders', 'pw-o'), 'payments.username': 'user-p', 'payments.password': '' },
    ),
  );
  t.deepEqual(registry.get('orders')?.credentials, {
    found: true,
    username: 'cacheplane.team-a.orders',
    password: 'pw-o',
  });
  t.deepEqual(registry.get('payments')?.credentials, { found: false, missingKeys: ['payments.password'] });
  t.deepEqual(registry.get('stock')?.credentials, {
    found: false,
    missingKeys: ['stock.username', 'stock.password'],
  });
});

test('a change carries the previous and the new state', (t) => {
  const registry = new NamespaceRegistry();
  registry.apply(snapshotOf({ orders }, credentials));
  const [change] = registry.apply(snapshotOf({ orders: ordersWithLimits }, credentials)).changes;
  if (change?.kind !== 'changed') return t.fail(`expected a change, got ${change?.kind}`);
  t.is(change.previous.entry.limits.maxValueBytes, 4096);
  t.is(change.state.entry.limits.maxValueBytes, 100);
  t.is(registry.get('orders'), change.state);
});

test('a problem names the namespace of its key, when the key names one', (t) => {
  const registry = new NamespaceRegistry();
  const { problems } = registry.apply({
    entries: { 'orders.json': '{', 'README.md': 'hi' },
    credentials: {},
  });
  t.deepEqual(
    problems.map(({ key, namespace }) => [key, namespace]),
    [
      ['orders.json', 'orders'],
      ['README.md', undefined],
    ],
  );
  t.regex(problems[0]?.problem ?? '', /^ConfigMap key "orders.json": not JSON/);
});

test('listeners hear every non-empty list of changes, until they unsubscribe', (t) => {
  const registry = new NamespaceRegistry();
  const heard: string[][] = [];
  const unsubscribe = registry.onChange((changes) => heard.push(brief(changes)));
  registry.apply(snapshotOf({ orders }, credentials));
  registry.apply(snapshotOf({ orders }, credentials));
  registry.apply(snapshotOf({ orders, payments }, credentials));
  unsubscribe();
  registry.apply(snapshotOf({}, {}));
  t.deepEqual(heard, [['added orders'], ['added payments']]);
});
