// Step 2, deletion: remove what lives outside Kubernetes (the ACL user on every Redis node) and the
// namespace's entry in the data plane's ConfigMap, then release the finalizer. Until both are
// done the finalizer holds the object (Redis down: retried with backoff, reported in status). The
// Secret is not deleted here: its owner reference hands it to the garbage collector.
import { ConditionType, Reason } from '../api/types.ts';
import type { RedisAcl } from '../redis/acl-admin.ts';
import { classifyRedisError } from './acl-step.ts';
import type { CacheNamespaceObject, ClusterApi } from './cluster-api.ts';
import type { ConditionInput } from './conditions.ts';
import type { ConfigPublisher } from './config-publisher.ts';
import { EventReason, type EventRecorder } from './events.ts';
import { eventTarget, hasFinalizer, isDeleting, ownedNames, withoutFinalizer } from './objects.ts';
import { nextStatus, writeStatus } from './status.ts';
import type { ReconcileResult } from './work-queue.ts';

export interface FinalizeDeps {
  cluster: ClusterApi;
  redis: RedisAcl;
  config: ConfigPublisher;
  events: EventRecorder;
  aclUserPrefix: string;
  now: () => Date;
}

export async function finalize(object: CacheNamespaceObject, deps: FinalizeDeps): Promise<ReconcileResult> {
  if (!hasFinalizer(object)) return { result: 'done' };
  const target = eventTarget(object);
  const names = ownedNames(object, deps.aclUserPrefix);
  const conditions: ConditionInput[] = [];
  if (names !== undefined) {
    // Two objects in one Kubernetes namespace that claim one cache namespace share a user name:
    // the user is the live one's (the winner's), not this one's to delete.
    const sharedWith = deps.cluster
      .listCacheNamespaces()
      .find(
        (other) =>
          other.metadata.uid !== object.metadata.uid &&
          !isDeleting(other) &&
          ownedNames(other, deps.aclUserPrefix)?.aclUser === names.aclUser,
      );
    if (sharedWith === undefined) {
      try {
        await deps.redis.remove(names.aclUser);
        deps.events.record(
          target,
          'Normal',
          EventReason.AclUserRemoved,
          'DeleteAclUser',
          `removed ACL user ${names.aclUser} from every Redis node`,
        );
      } catch (error) {
        const { reason, message } = classifyRedisError(error);
        conditions.push({
          type: ConditionType.RedisACLReady,
          status: 'False',
          reason,
          message: `cannot remove ACL user ${names.aclUser}: ${message}`,
        });
      }
    }
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
    } catch (error) {
      conditions.push({
        type: ConditionType.ConfigPublished,
        status: 'False',
        reason: Reason.ConfigPublishFailed,
        message: `cannot remove ${names.configKey}: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  if (conditions.length > 0) {
    const message = `waiting to clean up before deletion: ${conditions.map((c) => c.message).join('; ')}`;
    deps.events.record(target, 'Warning', EventReason.CleanupFailed, 'Finalize', message);
    const ready: ConditionInput = {
      type: ConditionType.Ready,
      status: 'False',
      reason: Reason.Deleting,
      message,
    };
    const status = nextStatus(object, {}, [...conditions, ready], deps.now());
    await writeStatus(deps.cluster, object, status);
    return { result: 'requeue' };
  }
  await deps.cluster.replaceCacheNamespace(withoutFinalizer(object));
  return { result: 'done' };
}
