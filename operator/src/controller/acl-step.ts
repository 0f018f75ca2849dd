// Step 5: the namespace's Redis ACL user on every node. Inspect first and write only where a node
// differs (ACL SETUSER on every node each pass would be harmless but noisy, and would hide drift):
// a user that no node has yet is a creation; anything else is drift, repaired and reported by name.
import { Reason, ConditionType, type Condition } from '../api/types.ts';
import { AclNodesError, type RedisAcl } from '../redis/acl-admin.ts';
import { nodesOutOfSync, passwordHash, type AclUserSpec } from '../redis/acl-rules.ts';
import type { ConditionInput } from './conditions.ts';
import { EventReason, type EventRecorder, type EventTarget } from './events.ts';

export interface AclStepResult {
  ok: boolean;
  condition: ConditionInput;
}

export async function ensureAclUser(
  target: EventTarget,
  user: AclUserSpec,
  password: string,
  previous: Condition | undefined,
  deps: { redis: RedisAcl; events: EventRecorder },
): Promise<AclStepResult> {
  const hash = passwordHash(password);
  let outOfSync: Array<{ node: string; problems: string[] }>;
  let nodeCount: number;
  try {
    const states = await deps.redis.inspect(user.name);
    nodeCount = states.size;
    outOfSync = nodesOutOfSync(user, hash, states);
  } catch (error) {
    return failed(target, error, 'InspectAclUser', deps.events);
  }
  if (outOfSync.length === 0) {
    return {
      ok: true,
      condition: ready(Reason.Reconciled, inPlace(user, nodeCount)),
    };
  }
  try {
    await deps.redis.apply(user, password);
  } catch (error) {
    return failed(target, error, 'ApplyAclUser', deps.events);
  }
  const created =
    outOfSync.length === nodeCount &&
    outOfSync.every(({ problems }) => problems.length === 1 && /does not exist$/.test(problems[0] ?? '')) &&
    previous?.status !== 'True';
  if (created) {
    const message = `created ACL user ${user.name} on ${nodes(nodeCount)}`;
    deps.events.record(target, 'Normal', EventReason.AclUserCreated, 'ApplyAclUser', message);
    // The same condition as a pass that finds it in place: the next pass writes no status.
    return { ok: true, condition: ready(Reason.Reconciled, inPlace(user, nodeCount)) };
  }
  const details = outOfSync.map(({ node, problems }) => `${node} (${problems.join('; ')})`).join(', ');
  const message = `repaired ACL user ${user.name} on ${nodes(outOfSync.length)} of ${nodeCount}: ${details}`;
  deps.events.record(target, 'Warning', EventReason.AclDriftRepaired, 'ApplyAclUser', message);
  return { ok: true, condition: ready(Reason.AclDriftRepaired, message) };
}

function inPlace(user: AclUserSpec, nodeCount: number): string {
  return `ACL user ${user.name} is in place on ${nodes(nodeCount)}`;
}

function ready(reason: string, message: string): ConditionInput {
  return { type: ConditionType.RedisACLReady, status: 'True', reason, message };
}

function failed(target: EventTarget, error: unknown, action: string, events: EventRecorder): AclStepResult {
  const { reason, message } = classifyRedisError(error);
  events.record(
    target,
    'Warning',
    reason === Reason.AclApplyFailed ? EventReason.AclApplyFailed : EventReason.RedisUnavailable,
    action,
    message,
  );
  return { ok: false, condition: { type: ConditionType.RedisACLReady, status: 'False', reason, message } };
}

/**
 * RedisUnavailable when nodes could not be reached (connection refused, timeouts, no cluster
 * topology); AclApplyFailed when a node answered and refused (a Redis error reply).
 */
export function classifyRedisError(error: unknown): { reason: Reason; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof AclNodesError) {
    const refused = error.failures.some(({ error: cause }) => cause.name === 'ReplyError');
    return { reason: refused ? Reason.AclApplyFailed : Reason.RedisUnavailable, message };
  }
  return { reason: Reason.RedisUnavailable, message };
}

function nodes(count: number): string {
  return count === 1 ? '1 Redis node' : `${count} Redis nodes`;
}
