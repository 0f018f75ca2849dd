// What the world should look like for one CacheNamespace: a pure function of the (validated,
// defaulted) resource and the operator's settings. The reconcile compares it with what it finds
// (Redis ACL users on every node, the Secret and its copy for the data plane, the ConfigMap entry)
// and applies the difference.
import {
  API_VERSION,
  KIND,
  cacheNamespaceOf,
  type CacheNamespace,
  type EncryptionMode,
} from '../api/types.ts';
import { durationMs, memoryBytes } from '../api/units.ts';
import { rulesWithPasswordRule, type AclUserSpec } from '../redis/acl-rules.ts';
import { configEntryKey, CONFIG_ENTRY_SCHEMA_VERSION, type ConfigEntry } from './config-entry.ts';
import { dataPlaneCommands, type RedisTopology } from './data-plane-commands.ts';

/** The operator's own configuration that shapes desired state (validated once, at start). */
export interface OperatorSettings {
  /**
   * First segment of every ACL user name the operator creates: it marks them as the operator's.
   * 1-20 of a-z, 0-9 and '-'.
   * @default 'cacheplane'
   */
  aclUserPrefix: string;
  /** How the data plane talks to Redis: decides a few of the commands its users need. */
  redis: RedisTopology;
  /** The ConfigMap the data plane reloads its per-namespace configuration from. */
  dataPlaneConfig: { namespace: string; name: string };
  /**
   * The Secret the data plane reads every namespace's Redis credentials from; in the ConfigMap's
   * namespace, so that the data plane reads nothing outside its own namespace.
   */
  dataPlaneCredentials: { namespace: string; name: string };
}

export const DEFAULT_SETTINGS: OperatorSettings = {
  aclUserPrefix: 'cacheplane',
  redis: { mode: 'standalone', db: 0 },
  dataPlaneConfig: { namespace: 'cacheplane-system', name: 'cacheplane-namespaces' },
  dataPlaneCredentials: { namespace: 'cacheplane-system', name: 'cacheplane-namespace-credentials' },
};

export const ACL_USER_PREFIX_PATTERN = /^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/;

/** Throws with one line per problem when settings cannot produce valid desired states. */
export function assertValidSettings(settings: OperatorSettings): void {
  const problems: string[] = [];
  if (!ACL_USER_PREFIX_PATTERN.test(settings.aclUserPrefix)) {
    problems.push(`aclUserPrefix "${settings.aclUserPrefix}": use 1-20 of a-z, 0-9 and "-"`);
  }
  if (!Number.isInteger(settings.redis.db) || settings.redis.db < 0) {
    problems.push(`redis.db ${settings.redis.db}: must be a database number`);
  }
  if (settings.redis.mode === 'cluster' && settings.redis.db !== 0) {
    problems.push(`redis.db ${settings.redis.db}: Redis Cluster has only database 0`);
  }
  const { dataPlaneConfig, dataPlaneCredentials } = settings;
  if (!NAMESPACE_NAME.test(dataPlaneConfig.namespace)) {
    problems.push(`dataPlaneConfig.namespace "${dataPlaneConfig.namespace}": not a namespace name`);
  }
  if (!OBJECT_NAME.test(dataPlaneConfig.name)) {
    problems.push(`dataPlaneConfig.name "${dataPlaneConfig.name}": not a ConfigMap name`);
  }
  if (dataPlaneCredentials.namespace !== dataPlaneConfig.namespace) {
    problems.push(
      `dataPlaneCredentials.namespace "${dataPlaneCredentials.namespace}": must be dataPlaneConfig.namespace ` +
        '(the data plane reads both from its own namespace)',
    );
  }
  if (!OBJECT_NAME.test(dataPlaneCredentials.name)) {
    problems.push(`dataPlaneCredentials.name "${dataPlaneCredentials.name}": not a Secret name`);
  }
  if (problems.length > 0) throw new Error(`invalid operator settings:\n  ${problems.join('\n  ')}`);
}

/** Label on everything the operator creates. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'cacheplane-operator';
/** Label carrying the cache namespace a Secret belongs to. */
export const CACHE_NAMESPACE_LABEL = 'cacheplane.dev/cache-namespace';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export interface DesiredState {
  cacheNamespace: string;
  aclUser: AclUserSpec & {
    /** `ACL SETUSER <name>` arguments, with `<password-sha256>` where the password's hash goes. */
    rules: string[];
  };
  /** The Secret holding the ACL user's credentials, in the CacheNamespace's namespace. */
  secret: {
    namespace: string;
    name: string;
    usernameKey: 'username';
    passwordKey: 'password';
    /** The value of `username`: the ACL user's name. The password is generated once and kept. */
    username: string;
    labels: Record<string, string>;
    ownerReference: OwnerReference;
  };
  /**
   * The same credentials in the data plane's shared Secret (`settings.dataPlaneCredentials`),
   * where the config entry points: written once the ACL user works with them.
   */
  sharedCredentials: {
    namespace: string;
    name: string;
    /** `<cacheNamespace>.username` */
    usernameKey: string;
    /** `<cacheNamespace>.password` */
    passwordKey: string;
    username: string;
  };
  /** The namespace's entry in the data plane's ConfigMap. */
  config: {
    configMapNamespace: string;
    configMapName: string;
    key: string;
    entry: ConfigEntry;
  };
  /** For the Vault key (managed from a later release). */
  encryption: { mode: EncryptionMode; rotationPeriodMs: number };
  /** The status fields that follow from the spec alone. */
  status: { cacheNamespace: string; aclUser: string; credentialsSecret: string };
}

/**
 * The ACL user name: `<prefix>.<kubernetes namespace>.<cache namespace>`.
 *
 * Both names are DNS labels, which never contain '.', so the name is unambiguous (with '-' as the
 * separator `a-b` + `c` and `a` + `b-c` would collide) and can be read back into its parts. It is
 * stable: it depends on nothing that can change over the object's life (the cache namespace name is
 * immutable). Its length is bounded: at most 20 + 1 + 63 + 1 + 63 = 148 characters. It carries the
 * Kubernetes namespace so that Redis's ACL LOG names the owning team, and so that two objects that
 * claim the same cache namespace can never share (and fight over) one user.
 */
export function aclUserName(prefix: string, kubernetesNamespace: string, cacheNamespace: string): string {
  return `${prefix}.${kubernetesNamespace}.${cacheNamespace}`;
}

/** `<metadata.name>-redis-acl`: at most 63 + 10 characters, a valid Secret name. */
export function secretName(resourceName: string): string {
  return `${resourceName}-redis-acl`;
}

/**
 * A namespace's keys in the data plane's shared credentials Secret. A cache namespace is a DNS label
 * (no '.'), so no two namespaces' keys collide, and both are valid Secret keys.
 */
export function sharedCredentialKeys(cacheNamespace: string): { usernameKey: string; passwordKey: string } {
  return { usernameKey: `${cacheNamespace}.username`, passwordKey: `${cacheNamespace}.password` };
}

/**
 * The key pattern of a namespace: `<cacheNamespace>:*`, matching exactly the data plane's storage
 * keys `<namespace>:<escaped key>` (dataplane/src/cache/storage-key.ts). A cache namespace is a DNS
 * label, so it contains no ':' and no glob character ('*', '?', '[', '\'): no other namespace's
 * name followed by ':' can start with it (`orders:` is not a prefix of `orders-eu:...`), and nothing
 * in the name widens the pattern.
 */
export function keyPattern(cacheNamespace: string): string {
  return `${cacheNamespace}:*`;
}

/** The hash placeholder in DesiredState.aclUser.rules. */
export const PASSWORD_HASH_PLACEHOLDER = '<password-sha256>';

export function desiredState(resource: CacheNamespace, settings: OperatorSettings): DesiredState {
  const { metadata, spec } = resource;
  const cacheNamespace = cacheNamespaceOf(resource);
  const user: AclUserSpec = {
    name: aclUserName(settings.aclUserPrefix, metadata.namespace, cacheNamespace),
    keyPatterns: [keyPattern(cacheNamespace)],
    commands: dataPlaneCommands(settings.redis),
  };
  const secret = secretName(metadata.name);
  const sharedCredentials = {
    ...settings.dataPlaneCredentials,
    ...sharedCredentialKeys(cacheNamespace),
    username: user.name,
  };
  const entry: ConfigEntry = {
    schemaVersion: CONFIG_ENTRY_SCHEMA_VERSION,
    namespace: cacheNamespace,
    owner: {
      kubernetesNamespace: metadata.namespace,
      name: metadata.name,
      uid: metadata.uid,
      generation: metadata.generation,
    },
    limits: {
      defaultTtlMs: durationMs(spec.defaultTTL),
      maxTtlMs: durationMs(spec.maxTTL),
      maxValueBytes: spec.maxValueBytes,
      maxKeyBytes: spec.maxKeyBytes,
    },
    localCache: {
      enabled: spec.localCache.enabled,
      maxEntries: spec.localCache.maxEntries,
      maxMemoryBytes: memoryBytes(spec.localCache.maxMemory),
      evictionPolicy: spec.localCache.evictionPolicy,
    },
    encryption: { mode: spec.encryption.mode },
    access: spec.access.map((rule) => ({
      subjects: [...rule.subjects],
      groups: [...rule.groups],
      verbs: [...rule.verbs],
    })),
    rateLimit:
      spec.rateLimit === undefined
        ? null
        : {
            opsPerSecond: spec.rateLimit.opsPerSecond,
            burst: spec.rateLimit.burst ?? spec.rateLimit.opsPerSecond,
          },
    redis: {
      aclUser: user.name,
      keyPrefix: `${cacheNamespace}:`,
      credentials: {
        secretNamespace: sharedCredentials.namespace,
        secretName: sharedCredentials.name,
        usernameKey: sharedCredentials.usernameKey,
        passwordKey: sharedCredentials.passwordKey,
      },
    },
  };
  return {
    cacheNamespace,
    aclUser: {
      ...user,
      rules: rulesWithPasswordRule(user, `#${PASSWORD_HASH_PLACEHOLDER}`),
    },
    secret: {
      namespace: metadata.namespace,
      name: secret,
      usernameKey: 'username',
      passwordKey: 'password',
      username: user.name,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [CACHE_NAMESPACE_LABEL]: cacheNamespace },
      ownerReference: {
        apiVersion: API_VERSION,
        kind: KIND,
        name: metadata.name,
        uid: metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    },
    sharedCredentials,
    config: {
      configMapNamespace: settings.dataPlaneConfig.namespace,
      configMapName: settings.dataPlaneConfig.name,
      key: configEntryKey(cacheNamespace),
      entry,
    },
    encryption: {
      mode: spec.encryption.mode,
      rotationPeriodMs: durationMs(spec.encryption.rotationPeriod),
    },
    status: { cacheNamespace, aclUser: user.name, credentialsSecret: secret },
  };
}
