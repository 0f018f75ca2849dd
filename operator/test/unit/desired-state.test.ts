import test from 'ava';
import fc from 'fast-check';
import { storageKey } from '../../../dataplane/src/cache/storage-key.ts';
import { ConfigEntrySchema, renderConfigEntry } from '../../src/desired/config-entry.ts';
import {
  DEFAULT_SETTINGS,
  aclUserName,
  assertValidSettings,
  desiredState,
  keyPattern,
  type OperatorSettings,
} from '../../src/desired/desired-state.ts';
import { FC_PARAMS, cacheNamespace, dnsLabel, rawCacheNamespace, validSpec } from '../support/resources.ts';
import { parseCacheNamespace } from '../../src/api/types.ts';

const STANDALONE = DEFAULT_SETTINGS;
const CLUSTER: OperatorSettings = { ...DEFAULT_SETTINGS, redis: { mode: 'cluster', db: 0 } };
const STANDALONE_DB3: OperatorSettings = { ...DEFAULT_SETTINGS, redis: { mode: 'standalone', db: 3 } };

const DATA_PLANE_COMMANDS = ['get', 'mget', 'set', 'del', 'evalsha', 'eval', 'ping', 'info'];

test('a minimal resource gets every default', (t) => {
  const desired = desiredState(cacheNamespace(), STANDALONE);
  t.deepEqual(desired, {
    cacheNamespace: 'orders',
    aclUser: {
      name: 'cacheplane.team-a.orders',
      keyPatterns: ['orders:*'],
      commands: DATA_PLANE_COMMANDS,
      rules: [
        'reset',
        'on',
        '#<password-sha256>',
        '~orders:*',
        'resetchannels',
        '-@all',
        ...DATA_PLANE_COMMANDS.map((command) => `+${command}`),
      ],
    },
    secret: {
      namespace: 'team-a',
      name: 'orders-redis-acl',
      usernameKey: 'username',
      passwordKey: 'password',
      username: 'cacheplane.team-a.orders',
      labels: {
        'app.kubernetes.io/managed-by': 'cacheplane-operator',
        'cacheplane.dev/cache-namespace': 'orders',
      },
      ownerReference: {
        apiVersion: 'cacheplane.dev/v1alpha1',
        kind: 'CacheNamespace',
        name: 'orders',
        uid: '5f3c1a9e-0000-4000-8000-000000000001',
        controller: true,
        blockOwnerDeletion: true,
      },
    },
    sharedCredentials: {
      namespace: 'cacheplane-system',
      name: 'cacheplane-namespace-credentials',
      usernameKey: 'orders.username',
      passwordKey: 'orders.password',
      username: 'cacheplane.team-a.orders',
    },
    config: {
      configMapNamespace: 'cacheplane-system',
      configMapName: 'cacheplane-namespaces',
      key: 'orders.json',
      entry: {
        schemaVersion: 1,
        namespace: 'orders',
        owner: {
          kubernetesNamespace: 'team-a',
          name: 'orders',
          uid: '5f3c1a9e-0000-4000-8000-000000000001',
          generation: 1,
        },
        limits: {
          defaultTtlMs: 3_600_000,
          maxTtlMs: 720 * 3_600_000,
          maxValueBytes: 1_048_576,
          maxKeyBytes: 1024,
        },
        localCache: {
          enabled: true,
          maxEntries: 10_000,
          maxMemoryBytes: 64 * 1_048_576,
          evictionPolicy: 'lru',
        },
        encryption: { mode: 'optional' },
        access: [{ subjects: ['orders-api'], groups: [], verbs: ['get', 'set'] }],
        rateLimit: null,
        redis: {
          aclUser: 'cacheplane.team-a.orders',
          keyPrefix: 'orders:',
          credentials: {
            secretNamespace: 'cacheplane-system',
            secretName: 'cacheplane-namespace-credentials',
            usernameKey: 'orders.username',
            passwordKey: 'orders.password',
          },
        },
      },
    },
    encryption: { mode: 'optional', rotationPeriodMs: 720 * 3_600_000 },
    status: {
      cacheNamespace: 'orders',
      aclUser: 'cacheplane.team-a.orders',
      credentialsSecret: 'orders-redis-acl',
    },
  });
});

const naming = [
  {
    case: 'cache namespace defaults to metadata.name',
    input: { namespace: 'team-a', name: 'orders' },
    aclUser: 'cacheplane.team-a.orders',
    pattern: 'orders:*',
    secret: 'orders-redis-acl',
    key: 'orders.json',
  },
  {
    case: 'an explicit cache namespace wins over metadata.name',
    input: { namespace: 'team-a', name: 'orders-cache', spec: { cacheNamespace: 'orders' } },
    aclUser: 'cacheplane.team-a.orders',
    pattern: 'orders:*',
    secret: 'orders-cache-redis-acl',
    key: 'orders.json',
  },
  {
    case: "'-' in either name stays unambiguous",
    input: { namespace: 'a-b', name: 'c' },
    aclUser: 'cacheplane.a-b.c',
    pattern: 'c:*',
    secret: 'c-redis-acl',
    key: 'c.json',
  },
  {
    case: '… against the split that a "-" separator would confuse it with',
    input: { namespace: 'a', name: 'b-c' },
    aclUser: 'cacheplane.a.b-c',
    pattern: 'b-c:*',
    secret: 'b-c-redis-acl',
    key: 'b-c.json',
  },
  {
    case: 'one-character names',
    input: { namespace: 'x', name: '0' },
    aclUser: 'cacheplane.x.0',
    pattern: '0:*',
    secret: '0-redis-acl',
    key: '0.json',
  },
  {
    case: 'longest names: 63 + 63',
    input: { namespace: 'n'.repeat(63), name: 'c'.repeat(63) },
    aclUser: `cacheplane.${'n'.repeat(63)}.${'c'.repeat(63)}`,
    pattern: `${'c'.repeat(63)}:*`,
    secret: `${'c'.repeat(63)}-redis-acl`,
    key: `${'c'.repeat(63)}.json`,
  },
];

for (const row of naming) {
  test(`names: ${row.case}`, (t) => {
    const { spec, ...rest } = row.input;
    const base = rawCacheNamespace(rest);
    const merged = { ...(base['spec'] as Record<string, unknown>), ...spec };
    const parsed = parseCacheNamespace({ ...base, spec: merged });
    if (!parsed.ok) return t.fail(parsed.problems.join('; '));
    const desired = desiredState(parsed.resource, STANDALONE);
    t.is(desired.aclUser.name, row.aclUser);
    t.deepEqual(desired.aclUser.keyPatterns, [row.pattern]);
    t.is(desired.secret.name, row.secret);
    t.is(desired.config.key, row.key);
    t.is(desired.config.entry.redis.keyPrefix, row.pattern.slice(0, -1));
    t.is(desired.status.aclUser, row.aclUser);
    const cacheNamespace = row.key.slice(0, -'.json'.length);
    t.deepEqual(desired.config.entry.redis.credentials, {
      secretNamespace: 'cacheplane-system',
      secretName: 'cacheplane-namespace-credentials',
      usernameKey: `${cacheNamespace}.username`,
      passwordKey: `${cacheNamespace}.password`,
    });
    t.is(desired.sharedCredentials.username, row.aclUser);
  });
}

test('the entry points at the configured shared credentials Secret', (t) => {
  const desired = desiredState(cacheNamespace(), {
    ...STANDALONE,
    dataPlaneConfig: { namespace: 'ops', name: 'namespaces' },
    dataPlaneCredentials: { namespace: 'ops', name: 'credentials' },
  });
  t.like(desired.config.entry.redis.credentials, { secretNamespace: 'ops', secretName: 'credentials' });
  t.like(desired.sharedCredentials, { namespace: 'ops', name: 'credentials' });
  t.like(desired.config, { configMapNamespace: 'ops', configMapName: 'namespaces' });
});

test('names: length bounds (ACL user ≤ 148, Secret ≤ 73, ConfigMap key ≤ 68, shared Secret key ≤ 72)', (t) => {
  const desired = desiredState(cacheNamespace({ namespace: 'n'.repeat(63), name: 'c'.repeat(63) }), {
    ...STANDALONE,
    aclUserPrefix: 'p'.repeat(20),
  });
  t.is(desired.aclUser.name.length, 148);
  t.is(desired.secret.name.length, 73);
  t.is(desired.config.key.length, 68);
  // A Secret key may be 253 characters long.
  t.is(desired.sharedCredentials.passwordKey.length, 72);
});

const commandTable: Array<{ case: string; settings: OperatorSettings; commands: string[] }> = [
  { case: 'standalone, database 0', settings: STANDALONE, commands: DATA_PLANE_COMMANDS },
  {
    case: 'standalone, database 3: SELECT too',
    settings: STANDALONE_DB3,
    commands: [...DATA_PLANE_COMMANDS, 'select'],
  },
  {
    case: 'cluster: topology, ready check, redirects and role changes',
    settings: CLUSTER,
    commands: [
      ...DATA_PLANE_COMMANDS,
      'cluster|slots',
      'cluster|info',
      'client|setname',
      'asking',
      'readonly',
      'readwrite',
    ],
  },
];

for (const row of commandTable) {
  test(`rules: ${row.case}`, (t) => {
    const desired = desiredState(cacheNamespace(), row.settings);
    t.deepEqual(desired.aclUser.commands, row.commands);
    t.deepEqual(desired.aclUser.rules, [
      'reset',
      'on',
      '#<password-sha256>',
      '~orders:*',
      'resetchannels',
      '-@all',
      ...row.commands.map((command) => `+${command}`),
    ]);
  });
}

test('rules: the ACL user prefix comes from the settings', (t) => {
  const desired = desiredState(cacheNamespace(), { ...STANDALONE, aclUserPrefix: 'cp-prod' });
  t.is(desired.aclUser.name, 'cp-prod.team-a.orders');
  t.is(desired.config.entry.redis.aclUser, 'cp-prod.team-a.orders');
});

const entryTable = [
  {
    case: 'durations and sizes are converted to ms and bytes',
    spec: {
      defaultTTL: '1m30s',
      maxTTL: '2h',
      maxValueBytes: 4096,
      maxKeyBytes: 256,
      localCache: { maxMemory: '1536Ki', maxEntries: 5, evictionPolicy: 'lfu', enabled: false },
      encryption: { mode: 'required', rotationPeriod: '24h' },
    },
    limits: { defaultTtlMs: 90_000, maxTtlMs: 7_200_000, maxValueBytes: 4096, maxKeyBytes: 256 },
    localCache: { enabled: false, maxEntries: 5, maxMemoryBytes: 1536 * 1024, evictionPolicy: 'lfu' },
    encryption: { mode: 'required', rotationPeriodMs: 86_400_000 },
    rateLimit: null,
  },
  {
    case: 'ms durations and Gi sizes',
    spec: { defaultTTL: '1500ms', maxTTL: '1500ms', localCache: { maxMemory: '2Gi' } },
    limits: { defaultTtlMs: 1500, maxTtlMs: 1500, maxValueBytes: 1_048_576, maxKeyBytes: 1024 },
    localCache: { enabled: true, maxEntries: 10_000, maxMemoryBytes: 2 * 1024 ** 3, evictionPolicy: 'lru' },
    encryption: { mode: 'optional', rotationPeriodMs: 720 * 3_600_000 },
    rateLimit: null,
  },
  {
    case: 'a rate limit without burst gets burst = opsPerSecond',
    spec: { rateLimit: { opsPerSecond: 250 } },
    limits: {
      defaultTtlMs: 3_600_000,
      maxTtlMs: 720 * 3_600_000,
      maxValueBytes: 1_048_576,
      maxKeyBytes: 1024,
    },
    localCache: { enabled: true, maxEntries: 10_000, maxMemoryBytes: 64 * 1_048_576, evictionPolicy: 'lru' },
    encryption: { mode: 'optional', rotationPeriodMs: 720 * 3_600_000 },
    rateLimit: { opsPerSecond: 250, burst: 250 },
  },
  {
    case: 'a rate limit with burst keeps it',
    spec: { rateLimit: { opsPerSecond: 250, burst: 1000 }, encryption: { mode: 'off' } },
    limits: {
      defaultTtlMs: 3_600_000,
      maxTtlMs: 720 * 3_600_000,
      maxValueBytes: 1_048_576,
      maxKeyBytes: 1024,
    },
    localCache: { enabled: true, maxEntries: 10_000, maxMemoryBytes: 64 * 1_048_576, evictionPolicy: 'lru' },
    encryption: { mode: 'off', rotationPeriodMs: 720 * 3_600_000 },
    rateLimit: { opsPerSecond: 250, burst: 1000 },
  },
];

for (const row of entryTable) {
  test(`config entry: ${row.case}`, (t) => {
    const access = [
      { subjects: ['svc-a'], verbs: ['get'] },
      { groups: ['writers', 'admins'], verbs: ['set', 'delete'] },
    ];
    const desired = desiredState(cacheNamespace({ spec: { ...row.spec, access } }), STANDALONE);
    const { entry } = desired.config;
    t.deepEqual(entry.limits, row.limits);
    t.deepEqual(entry.localCache, row.localCache);
    t.deepEqual(desired.encryption, row.encryption);
    t.deepEqual(entry.encryption, { mode: row.encryption.mode });
    t.deepEqual(entry.rateLimit, row.rateLimit);
    t.deepEqual(entry.access, [
      { subjects: ['svc-a'], groups: [], verbs: ['get'] },
      { subjects: [], groups: ['writers', 'admins'], verbs: ['set', 'delete'] },
    ]);
  });
}

test('config entry: rendered as stable JSON that its schema reads back', (t) => {
  const { entry } = desiredState(cacheNamespace({ generation: 7 }), STANDALONE).config;
  const text = renderConfigEntry(entry);
  t.true(text.endsWith('}\n'));
  t.is(text, renderConfigEntry(structuredClone(entry)));
  t.deepEqual(ConfigEntrySchema.parse(JSON.parse(text)), entry);
  t.is(entry.owner.generation, 7);
  t.deepEqual(Object.keys(JSON.parse(text) as object), [
    'schemaVersion',
    'namespace',
    'owner',
    'limits',
    'localCache',
    'encryption',
    'access',
    'rateLimit',
    'redis',
  ]);
});

const settingsTable: Array<{ case: string; settings: OperatorSettings; problem?: RegExp }> = [
  { case: 'the defaults', settings: DEFAULT_SETTINGS },
  { case: 'a cluster on database 0', settings: CLUSTER },
  {
    case: 'a prefix with a dot',
    settings: { ...DEFAULT_SETTINGS, aclUserPrefix: 'a.b' },
    problem: /aclUserPrefix/,
  },
  { case: 'an empty prefix', settings: { ...DEFAULT_SETTINGS, aclUserPrefix: '' }, problem: /aclUserPrefix/ },
  {
    case: 'a 21-character prefix',
    settings: { ...DEFAULT_SETTINGS, aclUserPrefix: 'p'.repeat(21) },
    problem: /aclUserPrefix/,
  },
  {
    case: 'a cluster on database 1',
    settings: { ...DEFAULT_SETTINGS, redis: { mode: 'cluster', db: 1 } },
    problem: /only database 0/,
  },
  {
    case: 'a ConfigMap namespace that is no DNS label',
    settings: { ...DEFAULT_SETTINGS, dataPlaneConfig: { namespace: 'Cache', name: 'x' } },
    problem: /dataPlaneConfig\.namespace/,
  },
  {
    case: "a credentials Secret outside the ConfigMap's namespace",
    settings: {
      ...DEFAULT_SETTINGS,
      dataPlaneCredentials: { namespace: 'elsewhere', name: 'cacheplane-namespace-credentials' },
    },
    problem: /dataPlaneCredentials\.namespace "elsewhere": must be dataPlaneConfig\.namespace/,
  },
  {
    case: 'a credentials Secret name that is no DNS subdomain',
    settings: {
      ...DEFAULT_SETTINGS,
      dataPlaneCredentials: { namespace: 'cacheplane-system', name: 'Credentials' },
    },
    problem: /dataPlaneCredentials\.name "Credentials": not a Secret name/,
  },
];

for (const row of settingsTable) {
  test(`settings: ${row.case}`, (t) => {
    if (row.problem === undefined) t.notThrows(() => assertValidSettings(row.settings));
    else t.throws(() => assertValidSettings(row.settings), { message: row.problem });
  });
}

test('property: the ACL user name is injective and reads back into its parts', (t) => {
  fc.assert(
    fc.property(dnsLabel, dnsLabel, dnsLabel, dnsLabel, (ns1, cn1, ns2, cn2) => {
      const a = aclUserName('cacheplane', ns1, cn1);
      const b = aclUserName('cacheplane', ns2, cn2);
      const sameInput = ns1 === ns2 && cn1 === cn2;
      return (
        (a === b) === sameInput && a.split('.').join('/') === `cacheplane/${ns1}/${cn1}` && a.length <= 137
      );
    }),
    FC_PARAMS,
  );
  t.pass();
});

test("property: a namespace's key pattern never matches another namespace's storage keys", (t) => {
  // keyPattern is `<label>:*`; a DNS label has no glob characters, so the pattern matches exactly
  // the strings that start with `<label>:`.
  fc.assert(
    fc.property(dnsLabel, dnsLabel, fc.string({ unit: 'binary', minLength: 1 }), (mine, theirs, key) => {
      const pattern = keyPattern(mine);
      const literalPrefix = pattern.slice(0, -1);
      const hasNoGlob = !/[*?[\]\\]/.test(literalPrefix);
      const matchesOwn = storageKey(mine, key).startsWith(literalPrefix);
      const matchesOther = storageKey(theirs, key).startsWith(literalPrefix);
      return hasNoGlob && matchesOwn && matchesOther === (mine === theirs);
    }),
    FC_PARAMS,
  );
  t.pass();
});

test('property: desiredState is pure (same input, same output; input untouched) and its entry valid', (t) => {
  fc.assert(
    fc.property(
      validSpec,
      dnsLabel,
      dnsLabel,
      fc.constantFrom(STANDALONE, STANDALONE_DB3, CLUSTER),
      (spec, namespace, name, settings) => {
        const parsed = parseCacheNamespace(rawCacheNamespace({ namespace, name, spec }));
        if (!parsed.ok) throw new Error(parsed.problems.join('; '));
        const before = structuredClone(parsed.resource);
        const first = desiredState(parsed.resource, settings);
        const second = desiredState(parsed.resource, settings);
        t.deepEqual(parsed.resource, before);
        t.deepEqual(first, second);
        ConfigEntrySchema.parse(first.config.entry);
        return (
          first.config.entry.limits.defaultTtlMs <= first.config.entry.limits.maxTtlMs &&
          first.aclUser.keyPatterns.length === 1 &&
          first.aclUser.rules[0] === 'reset'
        );
      },
    ),
    FC_PARAMS,
  );
});
