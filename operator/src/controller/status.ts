// Step 7: the status a pass ends with, written once, through the status subresource, and only when
// it differs from what is stored (so a pass that changed nothing writes nothing and wakes nobody).
import { ConditionType, Reason, type CacheNamespaceStatus } from '../api/types.ts';
import type { CacheNamespaceObject, ClusterApi } from './cluster-api.ts';
import { sameStatus, setCondition, type ConditionInput } from './conditions.ts';

export interface StatusFields {
  cacheNamespace?: string | undefined;
  aclUser?: string | undefined;
  credentialsSecret?: string | undefined;
}

/**
 * The object's next status: `fields` and `conditions` set over the stored status (conditions of
 * other types and fields such as keyVersion are kept), and a `Ready` condition derived from
 * `conditions` unless one is among them.
 */
export function nextStatus(
  object: CacheNamespaceObject,
  fields: StatusFields,
  conditions: ConditionInput[],
  now: Date,
): CacheNamespaceStatus {
  const generation = object.metadata.generation ?? 0;
  const withReady = conditions.some((condition) => condition.type === ConditionType.Ready)
    ? conditions
    : [...conditions, readyFrom(conditions)];
  let merged = object.status?.conditions ?? [];
  for (const condition of withReady) merged = setCondition(merged, condition, generation, now);
  const status: CacheNamespaceStatus = {
    ...object.status,
    observedGeneration: generation,
    conditions: merged,
  };
  for (const [field, value] of Object.entries(fields) as Array<[keyof StatusFields, string | undefined]>) {
    if (value === undefined) delete status[field];
    else status[field] = value;
  }
  return status;
}

/** Ready is True when every other condition is; otherwise it carries the first failing one's reason. */
function readyFrom(conditions: ConditionInput[]): ConditionInput {
  const failing = conditions.find((condition) => condition.status !== 'True');
  if (failing === undefined) {
    return {
      type: ConditionType.Ready,
      status: 'True',
      reason: Reason.Reconciled,
      message: 'the ACL user, its credentials and the configuration entry are in place',
    };
  }
  return {
    type: ConditionType.Ready,
    status: failing.status === 'Unknown' ? 'Unknown' : 'False',
    reason: failing.reason,
    message: failing.message,
  };
}

/** Writes `status` when it differs from the stored one; returns the object as it is now. */
export async function writeStatus(
  cluster: ClusterApi,
  object: CacheNamespaceObject,
  status: CacheNamespaceStatus,
): Promise<{ object: CacheNamespaceObject; written: boolean }> {
  if (sameStatus(object.status, status)) return { object, written: false };
  const updated = await cluster.replaceCacheNamespaceStatus({ ...object, status });
  return { object: updated, written: true };
}
