// Status conditions as cert-manager keeps them: one per type; `lastTransitionTime` moves only when
// `status` flips; each carries the generation it describes. And the comparison that decides
// whether a status needs writing at all.
import type { CacheNamespaceStatus, Condition } from '../api/types.ts';

export interface ConditionInput {
  type: string;
  status: Condition['status'];
  reason: string;
  message: string;
}

/** The API server refuses longer messages (metav1.Condition: 32768). */
const MAX_MESSAGE = 32_768;

/**
 * `existing` with `next` set: its lastTransitionTime kept when the status is unchanged, `now`
 * otherwise. Conditions of other types (e.g. set by other tools) are kept as they are.
 */
export function setCondition(
  existing: readonly Condition[],
  next: ConditionInput,
  generation: number,
  now: Date,
): Condition[] {
  const previous = existing.find((condition) => condition.type === next.type);
  const condition: Condition = {
    type: next.type,
    status: next.status,
    observedGeneration: generation,
    lastTransitionTime:
      previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : rfc3339(now),
    reason: next.reason,
    message: truncate(next.message),
  };
  const index = existing.findIndex((candidate) => candidate.type === next.type);
  if (index === -1) return [...existing, condition];
  return existing.map((candidate, position) => (position === index ? condition : candidate));
}

export function findCondition(status: CacheNamespaceStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((condition) => condition.type === type);
}

/** RFC 3339 to the second, as metav1.Time serializes. */
export function rfc3339(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Whether two statuses say the same (key order and absent-vs-undefined do not matter). */
export function sameStatus(
  a: CacheNamespaceStatus | undefined,
  b: CacheNamespaceStatus | undefined,
): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const record = inner as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => [key, record[key]]),
    );
  });
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE - 1)}…`;
}
