// reconcile(key): level-based. Whatever woke it, it re-reads the object and drives the world to
// desiredState (operator/README.md, "The reconcile loop"):
//   1 read (gone: done) and parse (invalid: status InvalidSpec, no retry)
//   2 deleting: finalize (finalize.ts); otherwise add the finalizer
//   3 a stronger claim on the cache namespace elsewhere: status NamespaceConflict, touch nothing
//   4 the credentials Secret (credentials.ts)
//   5 the ACL user on every Redis node (acl-step.ts)
//   6 the credentials' copy in the data plane's shared Secret (mirror-step.ts)
//   7 the ConfigMap entry (config-publisher.ts), only once its credentials are there and work
//   8 one status write, if anything changed (status.ts)
// A 409 from any write means the cache was behind: requeue with backoff and start over.
// A 404 means something went away meanwhile: likewise.
import { ConditionType, Reason, parseCacheNamespace } from '../api/types.ts';
import { renderConfigEntry } from '../desired/config-entry.ts';
import { desiredState, type DesiredState, type OperatorSettings } from '../desired/desired-state.ts';
import type { RedisAcl } from '../redis/acl-admin.ts';
import { generatePassword } from '../redis/password.ts';
import { ensureAclUser } from './acl-step.ts';
import {
  isConflict,
  isNotFound,
  splitKey,
  type CacheNamespaceObject,
  type ClusterApi,
} from './cluster-api.ts';
import { findCondition, type ConditionInput } from './conditions.ts';
import type { ConfigPublisher } from './config-publisher.ts';
import { ensureCredentials } from './credentials.ts';
import type { CredentialsMirror } from './credentials-mirror.ts';
import { EventReason, type EventRecorder, type EventTarget } from './events.ts';
import { finalize } from './finalize.ts';
import { mirrorCredentials } from './mirror-step.ts';
import { eventTarget, hasFinalizer, holderWins, isDeleting, withFinalizer, winningRival } from './objects.ts';
import { nextStatus, writeStatus } from './status.ts';
import type { ReconcileResult } from './work-queue.ts';

export interface ReconcileDeps {
  cluster: ClusterApi;
  redis: RedisAcl;
  config: ConfigPublisher;
  mirror: CredentialsMirror;
  events: EventRecorder;
  settings: OperatorSettings;
  /** @default () => new Date() */
  now?: (() => Date) | undefined;
  /** @default generatePassword (256 random bits) */
  generatePassword?: (() => string) | undefined;
}

const DONE: ReconcileResult = { result: 'done' };
/** Retry after the key's backoff. */
const RETRY: ReconcileResult = { result: 'requeue' };

export async function reconcile(key: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  try {
    return await reconcileObject(key, deps);
  } catch (error) {
    // 409: the cache was behind one of our writes. 404: the object (or the Secret) went away
    // meanwhile. Either way the next pass, on fresher state, knows better.
    if (isConflict(error) || isNotFound(error)) return RETRY;
    throw error;
  }
}

async function reconcileObject(key: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  const now = deps.now ?? (() => new Date());
  const { namespace, name } = splitKey(key);
  const stored = deps.cluster.getCacheNamespace(namespace, name);
  if (stored === undefined) return DONE;
  if (isDeleting(stored)) {
    return finalize(stored, { ...deps, aclUserPrefix: deps.settings.aclUserPrefix, now });
  }
  const target = eventTarget(stored);

  const parsed = parseCacheNamespace(stored);
  if (!parsed.ok) {
    const message = parsed.problems.join('\n');
    deps.events.record(target, 'Warning', EventReason.InvalidSpec, 'Validate', message);
    const ready = condition(ConditionType.Ready, 'False', Reason.InvalidSpec, message);
    await writeStatus(deps.cluster, stored, nextStatus(stored, {}, [ready], now()));
    return DONE;
  }
  const desired = desiredState(parsed.resource, deps.settings);

  let object = stored;
  if (!hasFinalizer(object)) object = await deps.cluster.replaceCacheNamespace(withFinalizer(object));

  const all = deps.cluster.listCacheNamespaces();
  const rival = winningRival(object, all);
  if (rival !== undefined) return reportConflict(object, target, rival, desired, deps, now());

  const credentials = await ensureCredentials(target, desired.secret, {
    cluster: deps.cluster,
    events: deps.events,
    generatePassword: deps.generatePassword ?? generatePassword,
  });
  if (!credentials.ok) {
    deps.events.record(target, 'Warning', EventReason.SecretConflict, 'CreateSecret', credentials.message);
    const blocked = condition(
      ConditionType.RedisACLReady,
      'False',
      Reason.SecretConflict,
      credentials.message,
    );
    await writeStatus(deps.cluster, object, nextStatus(object, fieldsOf(desired), [blocked], now()));
    return RETRY;
  }

  const acl = await ensureAclUser(
    target,
    desired.aclUser,
    credentials.password,
    findCondition(object.status, ConditionType.RedisACLReady),
    deps,
  );
  const mirrored = await mirrorCredentials(target, desired, credentials.password, acl, deps);
  const published = mirrored.ok ? await publishEntry(object, target, desired, all, deps) : mirrored;

  const status = nextStatus(object, fieldsOf(desired), [acl.condition, published.condition], now());
  await writeStatus(deps.cluster, object, status);
  return acl.ok && published.ok ? DONE : RETRY;
}

async function publishEntry(
  object: CacheNamespaceObject,
  target: EventTarget,
  desired: DesiredState,
  all: readonly CacheNamespaceObject[],
  deps: ReconcileDeps,
): Promise<{ ok: boolean; condition: ConditionInput }> {
  const { key, configMapNamespace, configMapName } = desired.config;
  const where = `${key} of ConfigMap ${configMapNamespace}/${configMapName}`;
  try {
    const published = await deps.config.publish(
      key,
      renderConfigEntry(desired.config.entry),
      object.metadata.uid,
      (holderUid) => holderWins(object, holderUid, all),
    );
    if (published.outcome === 'conflict') {
      const message = `${where} holds the entry of ${published.holder}, which claims the name too; left alone`;
      deps.events.record(target, 'Warning', EventReason.ConfigPublishFailed, 'PublishConfig', message);
      return {
        ok: false,
        condition: condition(ConditionType.ConfigPublished, 'False', Reason.ConfigPublishFailed, message),
      };
    }
    if (published.outcome === 'written') {
      deps.events.record(
        target,
        'Normal',
        EventReason.ConfigPublished,
        'PublishConfig',
        `published generation ${desired.config.entry.owner.generation} as ${where}`,
      );
    }
    return {
      ok: true,
      condition: condition(ConditionType.ConfigPublished, 'True', Reason.Reconciled, `${where} is current`),
    };
  } catch (error) {
    const message = `cannot write ${where}: ${error instanceof Error ? error.message : String(error)}`;
    deps.events.record(target, 'Warning', EventReason.ConfigPublishFailed, 'PublishConfig', message);
    return {
      ok: false,
      condition: condition(ConditionType.ConfigPublished, 'False', Reason.ConfigPublishFailed, message),
    };
  }
}

/**
 * Another live object holds the cache namespace: touch nothing of its. An entry this object
 * published while it held the name (a tie broken later, once both were seen) is taken back; the
 * shared credentials' keys are left to the holder, which overwrites them.
 */
async function reportConflict(
  object: CacheNamespaceObject,
  target: EventTarget,
  rival: CacheNamespaceObject,
  desired: DesiredState,
  deps: ReconcileDeps,
  now: Date,
): Promise<ReconcileResult> {
  await deps.config.remove(desired.config.key, object.metadata.uid);
  const message =
    `cache namespace "${desired.cacheNamespace}" is held by ${rival.metadata.namespace}/${rival.metadata.name}, ` +
    'which claimed it first; pick another name (spec.cacheNamespace needs a new object)';
  deps.events.record(target, 'Warning', EventReason.NamespaceConflict, 'ClaimNamespace', message);
  const conditions = [ConditionType.RedisACLReady, ConditionType.ConfigPublished, ConditionType.Ready].map(
    (type) => condition(type, 'False', Reason.NamespaceConflict, message),
  );
  const fields = { cacheNamespace: desired.cacheNamespace, aclUser: undefined, credentialsSecret: undefined };
  await writeStatus(deps.cluster, object, nextStatus(object, fields, conditions, now));
  return DONE;
}

function fieldsOf(desired: DesiredState) {
  return {
    cacheNamespace: desired.status.cacheNamespace,
    aclUser: desired.status.aclUser,
    credentialsSecret: desired.status.credentialsSecret,
  };
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string): ConditionInput {
  return { type, status, reason, message };
}
