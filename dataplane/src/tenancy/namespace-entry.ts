// The data plane's reading of one cache namespace's config entry: the JSON the operator publishes
// as key `<cacheNamespace>.json` of the data plane's ConfigMap (operator/src/desired/config-entry.ts
// writes it; operator/README.md documents it). The consumer side of a public interface: version 1
// is read, fields this data plane does not know are ignored, and what it uses is checked strictly.
import { z } from 'zod';

export const SUPPORTED_SCHEMA_VERSION = 1;

const ENTRY_KEY_SUFFIX = '.json';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const name = z.string().regex(DNS_LABEL, 'expected 1-63 lowercase letters, digits or "-"');
const positive = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const AccessRuleSchema = z.object({
  subjects: z.array(z.string()),
  groups: z.array(z.string()),
  verbs: z.array(z.enum(['get', 'set', 'delete'])),
});

// Objects strip unknown fields: the operator may add some (additive changes keep version 1).
const EntrySchema = z
  .object({
    schemaVersion: z.literal(SUPPORTED_SCHEMA_VERSION),
    namespace: name,
    owner: z.object({
      kubernetesNamespace: z.string(),
      name: z.string(),
      uid: z.string(),
      generation: z.number(),
    }),
    limits: z.object({
      defaultTtlMs: positive,
      maxTtlMs: positive,
      maxValueBytes: positive,
      maxKeyBytes: positive,
    }),
    localCache: z.object({
      enabled: z.boolean(),
      maxEntries: positive,
      maxMemoryBytes: positive,
      evictionPolicy: z.enum(['lru', 'lfu']),
    }),
    access: z.array(AccessRuleSchema),
    // Per data-plane replica; null or absent: no limit.
    rateLimit: z.object({ opsPerSecond: positive, burst: positive }).nullable().default(null),
    redis: z.object({
      aclUser: z.string().min(1),
      keyPrefix: z.string(),
      credentials: z.object({
        usernameKey: z.string().min(1),
        passwordKey: z.string().min(1),
      }),
    }),
  })
  .superRefine((entry, ctx) => {
    if (entry.limits.defaultTtlMs > entry.limits.maxTtlMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'defaultTtlMs'],
        message: `must not exceed limits.maxTtlMs (${entry.limits.maxTtlMs})`,
      });
    }
    // Keys are stored as `<namespace>:<key>` (storage-key.ts): any other prefix would put every key
    // outside what the namespace's ACL user may touch.
    if (entry.redis.keyPrefix !== `${entry.namespace}:`) {
      ctx.addIssue({
        code: 'custom',
        path: ['redis', 'keyPrefix'],
        message: `must be "${entry.namespace}:", the prefix of every key this data plane stores for the namespace`,
      });
    }
  });

/** One namespace's settings, as this data plane uses them. */
export type NamespaceEntry = z.infer<typeof EntrySchema>;
export type AccessRule = z.infer<typeof AccessRuleSchema>;

export type EntryParseResult = { ok: true; entry: NamespaceEntry } | { ok: false; problem: string };

/** The cache namespace a ConfigMap key is for; undefined when the key is not `<namespace>.json`. */
export function namespaceOfKey(key: string): string | undefined {
  if (!key.endsWith(ENTRY_KEY_SUFFIX)) return undefined;
  const namespace = key.slice(0, -ENTRY_KEY_SUFFIX.length);
  return DNS_LABEL.test(namespace) ? namespace : undefined;
}

/**
 * Parses the entry stored under ConfigMap key `key`. Refused, with a message naming the key and
 * every bad field: a key that is not `<namespace>.json`, text that is not JSON, an entry that does
 * not match the schema, and an entry for another namespace than its key's.
 */
export function parseNamespaceEntry(key: string, text: string): EntryParseResult {
  const refuse = (why: string): EntryParseResult => ({
    ok: false,
    problem: `ConfigMap key "${key}": ${why}`,
  });
  const keyNamespace = namespaceOfKey(key);
  if (keyNamespace === undefined) {
    return refuse('not an entry: entry keys are "<namespace>.json", the namespace a DNS label');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return refuse(`not JSON: ${(error as Error).message}`);
  }
  // Another version may differ anywhere: its other fields are not worth reporting.
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== undefined && version !== SUPPORTED_SCHEMA_VERSION) {
    return refuse(
      `schemaVersion ${JSON.stringify(version)} is not supported: this data plane reads version ${SUPPORTED_SCHEMA_VERSION}`,
    );
  }
  const parsed = EntrySchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    });
    return refuse(issues.join('; '));
  }
  if (parsed.data.namespace !== keyNamespace) {
    return refuse(`holds the entry of namespace "${parsed.data.namespace}", not "${keyNamespace}"`);
  }
  return { ok: true, entry: parsed.data };
}
