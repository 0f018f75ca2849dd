// The CRD and the operator's schema describe one resource: these tests fail when they drift apart.
// The CRD's structural schema (types, patterns, bounds, enums, defaults) is turned into a validator
// with zod's JSON Schema reader; its CEL rules are exercised against a real API server elsewhere.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import test from 'ava';
import fc from 'fast-check';
import { z } from 'zod';
import {
  API_VERSION,
  CacheNamespaceSpecSchema,
  DEFAULTS,
  GROUP,
  KIND,
  LIMITS,
  PLURAL,
  VERSION,
} from '../../src/api/types.ts';
import { DURATION_PATTERN, MEMORY_PATTERN } from '../../src/api/units.ts';
import { FC_PARAMS, validSpec } from '../support/resources.ts';

interface Schema {
  type?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxLength?: number;
  enum?: unknown[];
  'x-kubernetes-validations'?: Array<{ rule: string; message: string }>;
}

interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    conversion: { strategy: string };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: object };
      additionalPrinterColumns: Array<{ name: string; jsonPath: string; type: string }>;
      schema: { openAPIV3Schema: Schema };
    }>;
  };
}

const CRD_URL = new URL('../../../crds/cacheplane.dev_cachenamespaces.yaml', import.meta.url);
const crd = parseYaml(readFileSync(CRD_URL, 'utf8')) as Crd;
const version = crd.spec.versions[0];
const root = version?.schema.openAPIV3Schema as Schema;
const specSchema = root.properties?.['spec'] as Schema;

function at(path: string): Schema {
  let node: Schema = specSchema;
  for (const part of path.split('.')) {
    const next = part === '[]' ? node.items : node.properties?.[part];
    if (next === undefined) throw new Error(`the CRD has no spec.${path}`);
    node = next;
  }
  return node;
}

test('names, scope, version and subresources', (t) => {
  t.is(crd.metadata.name, `${PLURAL}.${GROUP}`);
  t.is(crd.spec.group, GROUP);
  t.is(crd.spec.scope, 'Namespaced');
  t.deepEqual(crd.spec.names.kind, KIND);
  t.deepEqual(crd.spec.names.shortNames, ['cns']);
  t.is(crd.spec.names.plural, PLURAL);
  t.is(crd.spec.versions.length, 1);
  t.is(`${crd.spec.group}/${version?.name}`, API_VERSION);
  t.is(version?.name, VERSION);
  t.true(version?.served && version.storage);
  t.deepEqual(version?.subresources.status, {});
  t.is(crd.spec.conversion.strategy, 'None');
});

test('printer columns: cache namespace, Ready, ACL user, age', (t) => {
  const columns = Object.fromEntries(
    (version?.additionalPrinterColumns ?? []).map((c) => [c.name, c.jsonPath]),
  );
  t.deepEqual(columns, {
    'Cache Namespace': '.status.cacheNamespace',
    Ready: '.status.conditions[?(@.type=="Ready")].status',
    Reason: '.status.conditions[?(@.type=="Ready")].reason',
    'ACL User': '.status.aclUser',
    Age: '.metadata.creationTimestamp',
  });
});

const defaults: Array<[string, unknown]> = [
  ['defaultTTL', DEFAULTS.defaultTTL],
  ['maxTTL', DEFAULTS.maxTTL],
  ['maxValueBytes', DEFAULTS.maxValueBytes],
  ['maxKeyBytes', DEFAULTS.maxKeyBytes],
  ['localCache', {}],
  ['localCache.enabled', DEFAULTS.localCache.enabled],
  ['localCache.maxEntries', DEFAULTS.localCache.maxEntries],
  ['localCache.maxMemory', DEFAULTS.localCache.maxMemory],
  ['localCache.evictionPolicy', DEFAULTS.localCache.evictionPolicy],
  ['encryption', {}],
  ['encryption.mode', DEFAULTS.encryption.mode],
  ['encryption.rotationPeriod', DEFAULTS.encryption.rotationPeriod],
  ['access.[].subjects', []],
  ['access.[].groups', []],
];
for (const [path, value] of defaults) {
  test(`default of spec.${path} is the operator's`, (t) => t.deepEqual(at(path).default, value));
}

const bounds: Array<[string, 'minimum' | 'maximum' | 'minItems' | 'maxItems' | 'maxLength', number]> = [
  ['maxValueBytes', 'minimum', LIMITS.maxValueBytes.min],
  ['maxValueBytes', 'maximum', LIMITS.maxValueBytes.max],
  ['maxKeyBytes', 'minimum', LIMITS.maxKeyBytes.min],
  ['maxKeyBytes', 'maximum', LIMITS.maxKeyBytes.max],
  ['localCache.maxEntries', 'minimum', LIMITS.maxEntries.min],
  ['localCache.maxEntries', 'maximum', LIMITS.maxEntries.max],
  ['access', 'minItems', LIMITS.accessRules.min],
  ['access', 'maxItems', LIMITS.accessRules.max],
  ['access.[].subjects', 'maxItems', LIMITS.principalsPerRule.max],
  ['access.[].groups', 'maxItems', LIMITS.principalsPerRule.max],
  ['access.[].subjects.[]', 'maxLength', LIMITS.principalLength.max],
  ['access.[].groups.[]', 'maxLength', LIMITS.principalLength.max],
  ['rateLimit.opsPerSecond', 'minimum', LIMITS.opsPerSecond.min],
  ['rateLimit.opsPerSecond', 'maximum', LIMITS.opsPerSecond.max],
  ['rateLimit.burst', 'minimum', LIMITS.burst.min],
  ['rateLimit.burst', 'maximum', LIMITS.burst.max],
];
for (const [path, keyword, value] of bounds) {
  test(`${keyword} of spec.${path} is the operator's`, (t) => t.is(at(path)[keyword], value));
}

const patterns: Array<[string, RegExp]> = [
  ['cacheNamespace', LIMITS.namePattern],
  ['defaultTTL', DURATION_PATTERN],
  ['maxTTL', DURATION_PATTERN],
  ['encryption.rotationPeriod', DURATION_PATTERN],
  ['localCache.maxMemory', MEMORY_PATTERN],
  ['access.[].subjects.[]', LIMITS.principalPattern],
  ['access.[].groups.[]', LIMITS.principalPattern],
];
for (const [path, pattern] of patterns) {
  test(`pattern of spec.${path} is the operator's, in its CEL rules too`, (t) => {
    const node = at(path);
    t.is(node.pattern, pattern.source);
    // A CEL rule that parses the field first checks the same pattern (so it only reports what
    // the pattern cannot, instead of a type-conversion error).
    for (const { rule } of node['x-kubernetes-validations'] ?? []) {
      t.true(rule.includes(`self.matches('${pattern.source}')`), rule);
    }
  });
}

test('enums are the operator’s', (t) => {
  t.deepEqual(at('localCache.evictionPolicy').enum, ['lru', 'lfu']);
  t.deepEqual(at('encryption.mode').enum, ['required', 'optional', 'off']);
  t.deepEqual(at('access.[].verbs.[]').enum, ['get', 'set', 'delete']);
});

test('CEL rules carry the bounds the operator checks', (t) => {
  const rules = (path: string) => (at(path)['x-kubernetes-validations'] ?? []).map((r) => r.rule).join(' ');
  t.regex(rules('defaultTTL'), /duration\('1s'\).*duration\('8760h'\)/);
  t.regex(rules('maxTTL'), /duration\('1s'\).*duration\('8760h'\)/);
  t.regex(rules('encryption.rotationPeriod'), /duration\('1h'\).*duration\('8760h'\)/);
  t.regex(rules('localCache.maxMemory'), /quantity\('1Mi'\).*quantity\('64Gi'\)/);
  t.is(LIMITS.ttlMs.max, 8760 * 3_600_000);
  t.is(LIMITS.rotationPeriodMs.min, 3_600_000);
  t.is(LIMITS.maxMemoryBytes.max, 64 * 1024 ** 3);
  t.regex(
    (specSchema['x-kubernetes-validations'] ?? []).map((r) => r.rule).join(' '),
    /duration\(self\.defaultTTL\) <= duration\(self\.maxTTL\)/,
  );
});

// ---------------------------------------------------------------------------------------------
// The two schemas side by side, on generated specs

/** Structural defaulting as the API server does it: a default applies where a field is absent,
 * then defaulting goes on inside it (so `localCache: {}` gets its fields' defaults). */
function applyCrdDefaults(value: unknown, schema: Schema): unknown {
  if (Array.isArray(value))
    return schema.items ? value.map((item) => applyCrdDefaults(item, schema.items as Schema)) : value;
  if (typeof value !== 'object' || value === null || schema.properties === undefined) return value;
  const result: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, property] of Object.entries(schema.properties)) {
    if (result[key] === undefined && property.default !== undefined)
      result[key] = structuredClone(property.default);
    if (result[key] !== undefined) result[key] = applyCrdDefaults(result[key], property);
  }
  return result;
}

// (fromJSONSchema changes the schema it is given: hand it a copy.)
const crdStructural = z.fromJSONSchema(structuredClone(specSchema) as Parameters<typeof z.fromJSONSchema>[0]);

test('property: for valid specs, the CRD accepts them and its defaults are the operator’s', (t) => {
  fc.assert(
    fc.property(validSpec, (spec) => {
      const operator = CacheNamespaceSpecSchema.safeParse(spec);
      const defaulted = applyCrdDefaults(spec, specSchema);
      const structural = crdStructural.safeParse(defaulted);
      t.true(operator.success, JSON.stringify(operator.error?.issues));
      t.true(structural.success, JSON.stringify(structural.error?.issues));
      t.deepEqual(operator.data, defaulted);
    }),
    FC_PARAMS,
  );
});

/** Values the CRD's structural schema itself must refuse (not only its CEL rules). */
const structurallyInvalid: Array<[string, unknown]> = [
  ['cacheNamespace', 'a:b'],
  ['cacheNamespace', 'Orders'],
  ['cacheNamespace', '-a'],
  ['defaultTTL', '1d'],
  ['maxTTL', '1.5h'],
  ['maxTTL', 3600],
  ['maxValueBytes', 0],
  ['maxValueBytes', 536_870_913],
  ['maxKeyBytes', 65_537],
  ['maxKeyBytes', '1024'],
  ['localCache', { maxEntries: 0 }],
  ['localCache', { maxMemory: '64' }],
  ['localCache', { maxMemory: '64MB' }],
  ['localCache', { evictionPolicy: 'fifo' }],
  ['localCache', { enabled: 'yes' }],
  ['encryption', { mode: 'on' }],
  ['encryption', { rotationPeriod: '30d' }],
  ['access', []],
  ['access', [{ subjects: ['a'], verbs: [] }]],
  ['access', [{ subjects: ['a'], verbs: ['admin'] }]],
  ['access', [{ subjects: ['a b'], verbs: ['get'] }]],
  ['access', [{ subjects: ['*'], verbs: ['get'] }]],
  ['rateLimit', { opsPerSecond: 0 }],
  ['rateLimit', { opsPerSecond: 1_000_001 }],
  ['rateLimit', { burst: 5 }],
];

test('property: a spec with one structurally bad field is refused by both', (t) => {
  fc.assert(
    fc.property(validSpec, fc.constantFrom(...structurallyInvalid), (spec, [field, bad]) => {
      const broken = { ...spec, [field]: bad };
      t.false(CacheNamespaceSpecSchema.safeParse(broken).success, `${field}: ${JSON.stringify(bad)}`);
      t.false(
        crdStructural.safeParse(applyCrdDefaults(broken, specSchema)).success,
        `${field}: ${JSON.stringify(bad)}`,
      );
    }),
    FC_PARAMS,
  );
});
