// Kubernetes Events on a CacheNamespace (`kubectl describe cns`, `kubectl events`): what the
// operator did (ACL user created, repaired, removed; configuration published or removed) and what
// went wrong. Recording never fails a reconcile: errors are logged. The same event for the same
// object is recorded once per window, so a key retried with backoff does not flood the namespace.
import { randomBytes } from 'node:crypto';
import type { EventsV1Api } from '@kubernetes/client-node';
import { apiError } from './kube-cluster-api.ts';
import { microTime } from '../kube/micro-time.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion?: string | undefined;
}

export type EventType = 'Normal' | 'Warning';

/** Reasons of the operator's Events (CamelCase). */
export const EventReason = {
  AclUserCreated: 'AclUserCreated',
  AclDriftRepaired: 'AclDriftRepaired',
  AclUserRemoved: 'AclUserRemoved',
  AclApplyFailed: 'AclApplyFailed',
  RedisUnavailable: 'RedisUnavailable',
  CredentialsCreated: 'CredentialsCreated',
  CredentialsReplaced: 'CredentialsReplaced',
  ConfigPublished: 'ConfigPublished',
  ConfigRemoved: 'ConfigRemoved',
  ConfigPublishFailed: 'ConfigPublishFailed',
  InvalidSpec: 'InvalidSpec',
  NamespaceConflict: 'NamespaceConflict',
  SecretConflict: 'SecretConflict',
  CleanupFailed: 'CleanupFailed',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export interface EventRecorder {
  /** Fire and forget. `action` is what the operator did or tried (events.k8s.io: `action`). */
  record(target: EventTarget, type: EventType, reason: EventReason, action: string, note: string): void;
}

export interface Logger {
  warn(object: Record<string, unknown>, message: string): void;
}

export interface KubeEventRecorderOptions {
  /** `reportingController`, e.g. `cacheplane.dev/operator`. */
  controller: string;
  /** `reportingInstance`: this replica (its identity). */
  instance: string;
  /** The same (object, reason, note) is recorded once per window. @default 600_000 (10 min) */
  dedupeWindowMs?: number | undefined;
  log: Logger;
}

const MAX_REMEMBERED = 4096;
const MAX_NOTE = 1024;

/** events.k8s.io/v1 Events, created in the object's namespace. */
export class KubeEventRecorder implements EventRecorder {
  readonly #api: EventsV1Api;
  readonly #options: KubeEventRecorderOptions;
  readonly #dedupe: Deduplicator;

  constructor(api: EventsV1Api, options: KubeEventRecorderOptions) {
    this.#api = api;
    this.#options = options;
    this.#dedupe = new Deduplicator(options.dedupeWindowMs ?? 600_000);
  }

  record(target: EventTarget, type: EventType, reason: EventReason, action: string, note: string): void {
    const text = note.length <= MAX_NOTE ? note : `${note.slice(0, MAX_NOTE - 1)}…`;
    if (!this.#dedupe.first(`${target.uid}|${reason}|${text}`)) return;
    const now = new Date();
    this.#api
      .createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { name: `${target.name}.${randomBytes(8).toString('hex')}`, namespace: target.namespace },
          eventTime: microTime(now),
          type,
          reason,
          action,
          note: text,
          reportingController: this.#options.controller,
          reportingInstance: this.#options.instance,
          regarding: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            namespace: target.namespace,
            name: target.name,
            uid: target.uid,
            resourceVersion: target.resourceVersion,
          },
        },
      })
      .catch((error: unknown) => {
        this.#options.log.warn(
          { error: apiError(error).message, reason, object: `${target.namespace}/${target.name}` },
          'could not record an event',
        );
      });
  }
}

/** Remembers what was recorded, for a window; bounded (the oldest is forgotten first). */
export class Deduplicator {
  readonly #windowMs: number;
  readonly #seen = new Map<string, number>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** True when `key` was not seen within the window (and remembers it now). */
  first(key: string, now = Date.now()): boolean {
    const last = this.#seen.get(key);
    if (last !== undefined && now - last < this.#windowMs) return false;
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > MAX_REMEMBERED) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}
