// The CacheNamespace resource, cacheplane.dev/v1alpha1: TypeScript types and the zod schema the
// operator re-validates every object with before acting on it. The CRD
// (crds/cacheplane.dev_cachenamespaces.yaml) is the authority; the bounds and defaults below are the
// same, and operator/test/unit/crd.test.ts fails when the two drift apart.
import { z } from 'zod';
import { DURATION_PATTERN, MEMORY_PATTERN, durationMs, memoryBytes } from './units.ts';

export const GROUP = 'cacheplane.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'CacheNamespace';
export const PLURAL = 'cachenamespaces';

// ---------------------------------------------------------------------------------------------
// Spec

export type EvictionPolicy = 'lru' | 'lfu';
export type EncryptionMode = 'required' | 'optional' | 'off';
export type Verb = 'get' | 'set' | 'delete';

export interface AccessRule {
  /** JWT `sub` values, matched exactly. */
  subjects: string[];
  /** Entries of the JWT's `groups` claim, matched exactly. */
  groups: string[];
  verbs: Verb[];
}

/** The spec after defaulting (by the API server, and again by the schema below). */
export interface CacheNamespaceSpec {
  /** Absent: metadata.name. */
  cacheNamespace?: string | undefined;
  defaultTTL: string;
  maxTTL: string;
  maxValueBytes: number;
  maxKeyBytes: number;
  localCache: {
    enabled: boolean;
    maxEntries: number;
    maxMemory: string;
    evictionPolicy: EvictionPolicy;
  };
  encryption: {
    mode: EncryptionMode;
    rotationPeriod: string;
  };
  access: AccessRule[];
  rateLimit?: { opsPerSecond: number; burst?: number | undefined } | undefined;
}

// ---------------------------------------------------------------------------------------------
// Status

export const ConditionType = {
  /** All of the conditions below that apply are True. */
  Ready: 'Ready',
  /** The namespace's ACL user exists with exactly the desired rules on every Redis node. */
  RedisACLReady: 'RedisACLReady',
  /** The namespace's entry is in the data plane's configuration. */
  ConfigPublished: 'ConfigPublished',
  /** The namespace's encryption key exists in Vault (managed from a later release). */
  VaultKeyReady: 'VaultKeyReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Condition reasons (CamelCase, as Kubernetes conventions ask). crds/README.md explains each. */
export const Reason = {
  Reconciled: 'Reconciled',
  Progressing: 'Progressing',
  InvalidSpec: 'InvalidSpec',
  NamespaceConflict: 'NamespaceConflict',
  RedisUnavailable: 'RedisUnavailable',
  AclApplyFailed: 'AclApplyFailed',
  AclDriftRepaired: 'AclDriftRepaired',
  ConfigPublishFailed: 'ConfigPublishFailed',
  SecretConflict: 'SecretConflict',
  Deleting: 'Deleting',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** metav1.Condition. */
export interface Condition {
  type: ConditionType | (string & {});
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  /** RFC 3339; changes only when `status` changes. */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface CacheNamespaceStatus {
  observedGeneration?: number;
  cacheNamespace?: string;
  aclUser?: string;
  credentialsSecret?: string;
  /** Set once encryption keys are managed (VaultKeyReady). */
  keyVersion?: number;
  conditions?: Condition[];
}

// ---------------------------------------------------------------------------------------------
// The resource

/** The metadata fields the operator relies on. */
export interface CacheNamespaceMeta {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  resourceVersion?: string | undefined;
  /** RFC 3339 (or a Date, as some client-node paths deserialize it). */
  creationTimestamp?: string | Date | undefined;
  deletionTimestamp?: string | Date | undefined;
  finalizers?: string[] | undefined;
}

export interface CacheNamespace {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: CacheNamespaceMeta;
  spec: CacheNamespaceSpec;
  status?: CacheNamespaceStatus | undefined;
}

// ---------------------------------------------------------------------------------------------
// Bounds and defaults: the CRD's, in one place

const MiB = 1024 * 1024;

export const LIMITS = {
  /** DNS label: lowercase alphanumerics and '-', 1-63 long, alphanumeric at both ends. */
  namePattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  ttlMs: { min: 1000, max: 8760 * 3_600_000 },
  rotationPeriodMs: { min: 3_600_000, max: 8760 * 3_600_000 },
  maxValueBytes: { min: 1, max: 512 * MiB },
  maxKeyBytes: { min: 1, max: 64 * 1024 },
  maxEntries: { min: 1, max: 10_000_000 },
  maxMemoryBytes: { min: MiB, max: 64 * 1024 * MiB },
  accessRules: { min: 1, max: 64 },
  principalsPerRule: { max: 256 },
  principalLength: { min: 1, max: 253 },
  /** No whitespace, no '*' (there are no wildcards: a '*' would only mislead). */
  principalPattern: /^[^\s*]+$/,
  opsPerSecond: { min: 1, max: 1_000_000 },
  burst: { min: 1, max: 10_000_000 },
} as const;

export const DEFAULTS = {
  defaultTTL: '1h',
  maxTTL: '720h',
  maxValueBytes: MiB,
  maxKeyBytes: 1024,
  localCache: { enabled: true, maxEntries: 10_000, maxMemory: '64Mi', evictionPolicy: 'lru' },
  encryption: { mode: 'optional', rotationPeriod: '720h' },
} as const satisfies Omit<CacheNamespaceSpec, 'access'>;

// ---------------------------------------------------------------------------------------------
// The schema

function boundedDuration(field: string, bounds: { min: number; max: number }, fallback: string) {
  const hours = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`);
  return z
    .string()
    .regex(DURATION_PATTERN, `${field} must be a duration such as 90s or 1h30m (units: ms, s, m, h)`)
    .refine(
      (text) => {
        if (!DURATION_PATTERN.test(text)) return true; // reported by the regex
        const ms = durationMs(text);
        return ms >= bounds.min && ms <= bounds.max;
      },
      `${field} must be between ${hours(bounds.min)} and ${hours(bounds.max)}`,
    )
    .default(fallback);
}

function int(bounds: { min: number; max: number }) {
  return z.number().int().min(bounds.min).max(bounds.max);
}

const principals = z
  .array(
    z
      .string()
      .min(LIMITS.principalLength.min)
      .max(LIMITS.principalLength.max)
      .regex(LIMITS.principalPattern, 'must not contain whitespace or "*"'),
  )
  .max(LIMITS.principalsPerRule.max)
  .refine((list) => new Set(list).size === list.length, 'must not repeat an entry')
  .default([]);

const AccessRuleSchema = z
  .object({
    subjects: principals,
    groups: principals,
    verbs: z
      .array(z.enum(['get', 'set', 'delete']))
      .min(1)
      .max(3)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a verb'),
  })
  .refine(
    (rule) => rule.subjects.length + rule.groups.length > 0,
    'an access rule needs at least one subject or group',
  );

export const CacheNamespaceSpecSchema = z
  .object({
    cacheNamespace: z
      .string()
      .regex(LIMITS.namePattern, 'cacheNamespace must be a DNS label (1-63 of a-z, 0-9, "-")')
      .optional(),
    defaultTTL: boundedDuration('defaultTTL', LIMITS.ttlMs, DEFAULTS.defaultTTL),
    maxTTL: boundedDuration('maxTTL', LIMITS.ttlMs, DEFAULTS.maxTTL),
    maxValueBytes: int(LIMITS.maxValueBytes).default(DEFAULTS.maxValueBytes),
    maxKeyBytes: int(LIMITS.maxKeyBytes).default(DEFAULTS.maxKeyBytes),
    localCache: z
      .object({
        enabled: z.boolean().default(DEFAULTS.localCache.enabled),
        maxEntries: int(LIMITS.maxEntries).default(DEFAULTS.localCache.maxEntries),
        maxMemory: z
          .string()
          .regex(MEMORY_PATTERN, 'maxMemory must be a size such as 64Mi (suffixes: Ki, Mi, Gi)')
          .refine((text) => {
            if (!MEMORY_PATTERN.test(text)) return true; // reported by the regex
            const bytes = memoryBytes(text);
            return bytes >= LIMITS.maxMemoryBytes.min && bytes <= LIMITS.maxMemoryBytes.max;
          }, 'maxMemory must be between 1Mi and 64Gi')
          .default(DEFAULTS.localCache.maxMemory),
        evictionPolicy: z.enum(['lru', 'lfu']).default(DEFAULTS.localCache.evictionPolicy),
      })
      .prefault({}),
    encryption: z
      .object({
        mode: z.enum(['required', 'optional', 'off']).default(DEFAULTS.encryption.mode),
        rotationPeriod: boundedDuration(
          'rotationPeriod',
          LIMITS.rotationPeriodMs,
          DEFAULTS.encryption.rotationPeriod,
        ),
      })
      .prefault({}),
    access: z.array(AccessRuleSchema).min(LIMITS.accessRules.min).max(LIMITS.accessRules.max),
    rateLimit: z
      .object({
        opsPerSecond: int(LIMITS.opsPerSecond),
        burst: int(LIMITS.burst).optional(),
      })
      .refine((limit) => limit.burst === undefined || limit.burst >= limit.opsPerSecond, {
        message: 'burst must be at least opsPerSecond',
        path: ['burst'],
      })
      .optional(),
  })
  .refine((spec) => !bothDurations(spec) || durationMs(spec.defaultTTL) <= durationMs(spec.maxTTL), {
    message: 'defaultTTL must not exceed maxTTL',
    path: ['defaultTTL'],
  });

function bothDurations(spec: { defaultTTL: string; maxTTL: string }): boolean {
  return DURATION_PATTERN.test(spec.defaultTTL) && DURATION_PATTERN.test(spec.maxTTL);
}

const timestamp = z.union([z.string(), z.date()]);

const MetadataSchema = z.object({
  name: z
    .string()
    .regex(LIMITS.namePattern, 'metadata.name must be a DNS label: it is the default cache namespace name'),
  namespace: z.string().regex(LIMITS.namePattern, 'metadata.namespace must be a DNS label'),
  uid: z.string().min(1),
  generation: z.number().int().min(1),
  resourceVersion: z.string().optional(),
  creationTimestamp: timestamp.optional(),
  deletionTimestamp: timestamp.optional(),
  finalizers: z.array(z.string()).optional(),
});

/** Validates a whole object as read from the API server; `status` is passed through as is. */
export const CacheNamespaceSchema = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: MetadataSchema,
  spec: CacheNamespaceSpecSchema,
  status: z.custom<CacheNamespaceStatus>((value) => typeof value === 'object' && value !== null).optional(),
});

export type ParseResult = { ok: true; resource: CacheNamespace } | { ok: false; problems: string[] };

/**
 * Re-validates an object read from the API server and returns it with every default filled in.
 * On failure, one problem per bad field (`spec.maxTTL: ...`), fit for a status message: the spec
 * cannot become valid by retrying, so the reconcile reports InvalidSpec and does not requeue.
 */
export function parseCacheNamespace(object: unknown): ParseResult {
  const parsed = CacheNamespaceSchema.safeParse(object);
  if (parsed.success) return { ok: true, resource: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`));
      return `${path.join('').replace(/^\./, '') || '(object)'}: ${issue.message}`;
    }),
  };
}

/** The effective cache namespace name: spec.cacheNamespace, else metadata.name. */
export function cacheNamespaceOf(resource: Pick<CacheNamespace, 'metadata' | 'spec'>): string {
  return resource.spec.cacheNamespace ?? resource.metadata.name;
}
