// Step 6: the namespace's credentials in the data plane's shared Secret (credentials-mirror.ts),
// between Redis (step 5) and the config entry (step 7). The data plane must never find an entry
// whose credentials are missing or do not work yet, so the credentials are mirrored only once the
// ACL user works with them, and the entry goes out only once they are mirrored. While Redis fails,
// an entry whose credentials are already mirrored is still published (a spec change is not held
// up by an outage); a new namespace, or a new password, waits.
import { ConditionType, Reason } from '../api/types.ts';
import type { DesiredState } from '../desired/desired-state.ts';
import type { AclStepResult } from './acl-step.ts';
import type { ConditionInput } from './conditions.ts';
import type { CredentialsMirror } from './credentials-mirror.ts';
import { EventReason, type EventRecorder, type EventTarget } from './events.ts';

export type MirrorStepResult =
  | { ok: true }
  /** The entry must not be published; `condition` says why (ConfigPublished=False). */
  | { ok: false; condition: ConditionInput };

export async function mirrorCredentials(
  target: EventTarget,
  desired: DesiredState,
  password: string,
  acl: AclStepResult,
  deps: { mirror: CredentialsMirror; events: EventRecorder },
): Promise<MirrorStepResult> {
  const shared = desired.sharedCredentials;
  const where = `keys ${shared.usernameKey} and ${shared.passwordKey} of Secret ${shared.namespace}/${shared.name}`;
  if (!acl.ok) {
    if (deps.mirror.holds(shared, password)) return { ok: true };
    return {
      ok: false,
      condition: {
        type: ConditionType.ConfigPublished,
        status: 'False',
        reason: acl.condition.reason,
        message:
          `waiting for ACL user ${desired.aclUser.name}: its credentials go to ${where}, and the entry ` +
          'to the data plane, once they work on every Redis node',
      },
    };
  }
  try {
    await deps.mirror.write(shared, password);
    return { ok: true };
  } catch (error) {
    const message = `cannot write ${where}: ${error instanceof Error ? error.message : String(error)}`;
    deps.events.record(target, 'Warning', EventReason.ConfigPublishFailed, 'MirrorCredentials', message);
    return {
      ok: false,
      condition: {
        type: ConditionType.ConfigPublished,
        status: 'False',
        reason: Reason.ConfigPublishFailed,
        message,
      },
    };
  }
}
