// One cache namespace's entry in the data plane's configuration: the JSON document the operator
// publishes as key `<cacheNamespace>.json` of the data plane's ConfigMap, and the data plane reloads
// when it changes. A public interface between the two (documented in operator/README.md): change it
// additively, or bump schemaVersion and teach the data plane both.
import { z } from 'zod';

export const CONFIG_ENTRY_SCHEMA_VERSION = 1;

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
const positive = z.number().int().positive();

export const ConfigEntrySchema = z.object({
  schemaVersion: z.literal(CONFIG_ENTRY_SCHEMA_VERSION),
  /** The cache namespace, as callers name it in the API. */
  namespace: name,
  /** The CacheNamespace this entry comes from. */
  owner: z.object({
    kubernetesNamespace: name,
    name,
    uid: z.string().min(1),
    generation: positive,
  }),
  limits: z.object({
    defaultTtlMs: positive,
    maxTtlMs: positive,
    maxValueBytes: positive,
    maxKeyBytes: positive,
  }),
  /** Per data-plane replica. */
  localCache: z.object({
    enabled: z.boolean(),
    maxEntries: positive,
    maxMemoryBytes: positive,
    evictionPolicy: z.enum(['lru', 'lfu']),
  }),
  /** The Vault key's name and version join this object when encryption keys are managed. */
  encryption: z.object({
    mode: z.enum(['required', 'optional', 'off']),
  }),
  /** A call is allowed when one rule matches its subject or a group and lists its verb. */
  access: z.array(
    z.object({
      subjects: z.array(z.string()),
      groups: z.array(z.string()),
      verbs: z.array(z.enum(['get', 'set', 'delete'])),
    }),
  ),
  /** Per data-plane replica; null: no limit. */
  rateLimit: z.object({ opsPerSecond: positive, burst: positive }).nullable(),
  redis: z.object({
    /** The ACL user to talk to Redis as, for this namespace. */
    aclUser: z.string().min(1),
    /** Every key of the namespace starts with this (`<namespace>:`); the user can touch no other. */
    keyPrefix: z.string().min(2),
    /**
     * Where the user's name and password are: keys `<namespace>.username` and `<namespace>.password`
     * of the Secret the operator shares with the data plane, in the data plane's own namespace.
     */
    credentials: z.object({
      secretNamespace: name,
      secretName: z.string().min(1),
      usernameKey: z.string().min(1),
      passwordKey: z.string().min(1),
    }),
  }),
});

export type ConfigEntry = z.infer<typeof ConfigEntrySchema>;

/** The ConfigMap key of a namespace's entry. */
export function configEntryKey(cacheNamespace: string): string {
  return `${cacheNamespace}.json`;
}

/**
 * The entry as stored: pretty JSON with a fixed key order and a final newline, so that equal
 * entries are equal strings (the reconcile compares strings to decide whether to write).
 */
export function renderConfigEntry(entry: ConfigEntry): string {
  return `${JSON.stringify(ConfigEntrySchema.parse(entry), null, 2)}\n`;
}
