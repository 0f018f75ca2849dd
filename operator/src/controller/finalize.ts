// Step 2, deletion: the namespace's entry leaves the data plane's ConfigMap (the data plane stops
// using it), then its keys leave the data plane's shared credentials Secret, then its ACL user
// leaves every Redis node; then the finalizer is released. Each step waits for the one before: a
// failure (Redis down, an API error) stops there, is reported in status and retried with backoff,
// and the finalizer holds. Every step is idempotent. The namespace's own Secret is not deleted here:
// its owner reference hands it to the garbage collector.
import { ConditionType, Reason } from '../api/types.ts';
import type { RedisAcl } from '../redis/acl-admin.ts';
import { classifyRedisError } from './acl-step.ts';
import type { CacheNamespaceObject, ClusterApi } from './cluster-api.ts';
import type { ConditionInput } from './conditions.ts';
import type { ConfigPublisher } from './config-publisher.ts';
import type { CredentialsMirror } from './credentials-mirror.ts';
import { EventReason, type EventRecorder, type EventTarget } from './events.ts';
import {
  claimedByAnother,
  eventTarget,
  hasFinalizer,
  isDeleting,
  ownedNames,
  withoutFinalizer,
  type OwnedNames,
} from './objects.ts';
import { nextStatus, writeStatus } from './status.ts';
import type { ReconcileResult } from './work-queue.ts';

export interface FinalizeDeps {
  cluster: ClusterApi;
  redis: RedisAcl;
  config: ConfigPublisher;
  mirror: CredentialsMirror;
  events: EventRecorder;
  aclUserPrefix: string;
  now: () => Date;
}

/** A cleanup step: undefined when done, else the condition that says what failed. */
type CleanupStep = (
  object: CacheNamespaceObject,
  target: EventTarget,
  names: OwnedNames,
  deps: FinalizeDeps,
) => Promise<ConditionInput | undefined>;

const CLEANUP: CleanupStep[] = [removeEntry, removeSharedCredentials, removeAclUser];

export async function finalize(object: CacheNamespaceObject, deps: FinalizeDeps): Promise<ReconcileResult> {
  if (!hasFinalizer(object)) return { result: 'done' };
  const target = eventTarget(object);
  const names = ownedNames(object, deps.aclUserPrefix);
  let failed: ConditionInput | undefined;
  if (names !== undefined) {
    for (const step of CLEANUP) {
      failed = await step(object, target, names, deps);
      if (failed !== undefined) break;
    }
  }
  if (failed !== undefined) {
    const message = `waiting to clean up before deletion: ${failed.message}`;
    deps.events.record(target, 'Warning', EventReason.CleanupFailed, 'Finalize', message);
    const ready: ConditionInput = {
      type: ConditionType.Ready,
      status: 'False',
      reason: Reason.Deleting,
      message,
    };
    const status = nextStatus(object, {}, [failed, ready], deps.now());
    await writeStatus(deps.cluster, object, status);
    return { result: 'requeue' };
  }
  await deps.cluster.replaceCacheNamespace(withoutFinalizer(object));
  return { result: 'done' };
}

/** The entry, if it is this object's (a holder's entry is not). */
async function removeEntry(
  object: CacheNamespaceObject,
  target: EventTarget,
  names: OwnedNames,
  deps: FinalizeDeps,
): Promise<ConditionInput | undefined> {
  try {
    const removed = await deps.config.remove(names.configKey, object.metadata.uid);
    if (removed === 'removed') {
      deps.events.record(
        target,
        'Normal',
        EventReason.ConfigRemoved,
        'RemoveConfigEntry',
        `removed ${names.configKey} from the data plane's configuration`,
      );
    }
    return undefined;
  } catch (error) {
    return configFailure(`cannot remove ${names.configKey}`, error);
  }
}

/**
 * The namespace's keys in the shared Secret, unless another live object claims the cache namespace:
 * the keys are then the holder's, or soon will be (it overwrites them).
 */
async function removeSharedCredentials(
  object: CacheNamespaceObject,
  _target: EventTarget,
  names: OwnedNames,
  deps: FinalizeDeps,
): Promise<ConditionInput | undefined> {
  if (claimedByAnother(object, deps.cluster.listCacheNamespaces())) return undefined;
  const { usernameKey, passwordKey } = names.credentialKeys;
  try {
    await deps.mirror.remove(names.credentialKeys);
    return undefined;
  } catch (error) {
    const where = `${usernameKey} and ${passwordKey} of Secret ${deps.mirror.namespace}/${deps.mirror.name}`;
    return configFailure(`cannot remove ${where}`, error);
  }
}

/**
 * The ACL user on every node. Two objects in one Kubernetes namespace that claim one cache
 * namespace share a user name: the user is then the live one's (the winner's), not this one's.
 */
async function removeAclUser(
  object: CacheNamespaceObject,
  target: EventTarget,
  names: OwnedNames,
  deps: FinalizeDeps,
): Promise<ConditionInput | undefined> {
  const sharedWith = deps.cluster
    .listCacheNamespaces()
    .find(
      (other) =>
        other.metadata.uid !== object.metadata.uid &&
        !isDeleting(other) &&
        ownedNames(other, deps.aclUserPrefix)?.aclUser === names.aclUser,
    );
  if (sharedWith !== undefined) return undefined;
  try {
    await deps.redis.remove(names.aclUser);
    deps.events.record(
      target,
      'Normal',
      EventReason.AclUserRemoved,
      'DeleteAclUser',
      `removed ACL user ${names.aclUser} from every Redis node`,
    );
    return undefined;
  } catch (error) {
    const { reason, message } = classifyRedisError(error);
    return {
      type: ConditionType.RedisACLReady,
      status: 'False',
      reason,
      message: `cannot remove ACL user ${names.aclUser}: ${message}`,
    };
  }
}

function configFailure(what: string, error: unknown): ConditionInput {
  return {
    type: ConditionType.ConfigPublished,
    status: 'False',
    reason: Reason.ConfigPublishFailed,
    message: `${what}: ${error instanceof Error ? error.message : String(error)}`,
  };
}
