// Per-namespace configuration for tests: config entries in the operator's published shape
// (operator/src/desired/config-entry.ts), snapshots, and a NamespaceConfigSource of our own that the
// test feeds by hand (the Kubernetes watcher is tested on its own).
import type { NamespaceConfigSnapshot, NamespaceConfigSource } from '../../src/tenancy/namespace-source.ts';

export interface AccessRuleSpec {
  subjects?: string[];
  groups?: string[];
  verbs: Array<'get' | 'set' | 'delete'>;
}

export interface EntrySpec {
  limits?: Partial<{ defaultTtlMs: number; maxTtlMs: number; maxValueBytes: number; maxKeyBytes: number }>;
  localCache?: Partial<{
    enabled: boolean;
    maxEntries: number;
    maxMemoryBytes: number;
    evictionPolicy: 'lru' | 'lfu';
  }>;
  access?: AccessRuleSpec[];
  generation?: number;
}

/** Everyone in group `readers` may get; subject `writer` may do everything. */
export const DEFAULT_ACCESS: AccessRuleSpec[] = [
  { subjects: ['writer'], verbs: ['get', 'set', 'delete'] },
  { groups: ['readers'], verbs: ['get'] },
];

/** A config entry as the operator renders it, every field present. */
export function configEntry(namespace: string, spec: EntrySpec = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    namespace,
    owner: {
      kubernetesNamespace: 'team-a',
      name: namespace,
      uid: `uid-${namespace}`,
      generation: spec.generation ?? 1,
    },
    limits: {
      defaultTtlMs: 600_000,
      maxTtlMs: 3_600_000,
      maxValueBytes: 4096,
      maxKeyBytes: 256,
      ...spec.limits,
    },
    localCache: {
      enabled: true,
      maxEntries: 1000,
      maxMemoryBytes: 1 << 20,
      evictionPolicy: 'lru',
      ...spec.localCache,
    },
    encryption: { mode: 'off' },
    access: (spec.access ?? DEFAULT_ACCESS).map((rule) => ({
      subjects: rule.subjects ?? [],
      groups: rule.groups ?? [],
      verbs: rule.verbs,
    })),
    rateLimit: null,
    redis: {
      aclUser: aclUserOf(namespace),
      keyPrefix: `${namespace}:`,
      credentials: {
        secretNamespace: 'cacheplane-system',
        secretName: 'cacheplane-namespace-credentials',
        usernameKey: `${namespace}.username`,
        passwordKey: `${namespace}.password`,
      },
    },
  };
}

export function aclUserOf(namespace: string): string {
  return `cacheplane.team-a.${namespace}`;
}

/** The text stored in the ConfigMap: pretty JSON with a final newline, as the operator writes it. */
export function entryText(entry: Record<string, unknown>): string {
  return `${JSON.stringify(entry, null, 2)}\n`;
}

/** The credentials Secret's keys for a namespace. */
export function credentialsOf(namespace: string, password: string): Record<string, string> {
  return { [`${namespace}.username`]: aclUserOf(namespace), [`${namespace}.password`]: password };
}

/** A snapshot holding `entries` (namespace → entry object) and the given Secret data. */
export function snapshotOf(
  entries: Record<string, Record<string, unknown>>,
  credentials: Record<string, string> = {},
): NamespaceConfigSnapshot {
  return {
    entries: Object.fromEntries(
      Object.entries(entries).map(([namespace, entry]) => [`${namespace}.json`, entryText(entry)]),
    ),
    credentials,
  };
}

/** A source the test drives: `start` resolves with the first snapshot (or rejects), `push` sends more. */
export class FakeNamespaceSource implements NamespaceConfigSource {
  #first: NamespaceConfigSnapshot | Error;
  #onChange: ((snapshot: NamespaceConfigSnapshot) => void) | undefined;
  closed = false;
  /** What `healthy()` answers once started: false stands for a watch that lost its connection. */
  connected = true;

  constructor(first: NamespaceConfigSnapshot | Error) {
    this.#first = first;
  }

  start(onChange: (snapshot: NamespaceConfigSnapshot) => void): Promise<NamespaceConfigSnapshot> {
    if (this.#first instanceof Error) return Promise.reject(this.#first);
    this.#onChange = onChange;
    return Promise.resolve(this.#first);
  }

  push(snapshot: NamespaceConfigSnapshot): void {
    if (this.#onChange === undefined) throw new Error('FakeNamespaceSource: push before start');
    this.#onChange(snapshot);
  }

  healthy(): boolean {
    return this.connected && !this.closed && this.#onChange !== undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
