// Step 4: the Secret with the namespace's Redis credentials. Created with a generated password when
// missing; kept as it is when right; repaired (labels, owner reference, username; a new password
// only when the one in it is unusable) otherwise. A Secret of the same name that belongs to someone
// else is never taken over.
import { API_VERSION, GROUP, KIND } from '../api/types.ts';
import { MANAGED_BY, MANAGED_BY_LABEL, type DesiredState } from '../desired/desired-state.ts';
import { isUsablePassword } from '../redis/password.ts';
import { isConflict, type ClusterApi, type SecretView, type SecretWrite } from './cluster-api.ts';
import { EventReason, type EventRecorder, type EventTarget } from './events.ts';

export type CredentialsResult =
  | { ok: true; password: string }
  /** A Secret of that name exists and is not this object's: nothing was changed. */
  | { ok: false; message: string };

export interface CredentialsDeps {
  cluster: ClusterApi;
  events: EventRecorder;
  generatePassword: () => string;
}

export async function ensureCredentials(
  target: EventTarget,
  desired: DesiredState['secret'],
  deps: CredentialsDeps,
): Promise<CredentialsResult> {
  let found = deps.cluster.getSecret(desired.namespace, desired.name);
  if (found === undefined) {
    const password = deps.generatePassword();
    try {
      await deps.cluster.createSecret(secretWrite(desired, undefined, password));
      deps.events.record(
        target,
        'Normal',
        EventReason.CredentialsCreated,
        'CreateSecret',
        `created Secret ${desired.name} with the credentials of Redis ACL user ${desired.username}`,
      );
      return { ok: true, password };
    } catch (error) {
      // It exists after all: not labelled as ours (not cached), or created after the cache was read.
      if (!isConflict(error)) throw error;
      found = await deps.cluster.readSecret(desired.namespace, desired.name);
      if (found === undefined) throw error;
    }
  }
  const foreignOwner = foreignController(found, desired);
  if (foreignOwner !== undefined) {
    return {
      ok: false,
      message: `Secret ${desired.namespace}/${desired.name} already exists and belongs to ${foreignOwner}; delete or rename it`,
    };
  }
  const current = found.values[desired.passwordKey];
  const password = isUsablePassword(current) ? current : deps.generatePassword();
  if (!upToDate(found, desired, password)) {
    await deps.cluster.replaceSecret(secretWrite(desired, found, password));
    if (password !== current) {
      deps.events.record(
        target,
        'Warning',
        EventReason.CredentialsReplaced,
        'UpdateSecret',
        `Secret ${desired.name} held no usable password; generated a new one`,
      );
    }
  }
  return { ok: true, password };
}

/**
 * Who controls the Secret, when that is neither this object nor a former object of the same name
 * (its owner reference outlives it where no garbage collector runs, and a recreated CacheNamespace
 * takes its Secret back); undefined when the operator may manage it.
 */
function foreignController(found: SecretView, desired: DesiredState['secret']): string | undefined {
  const controller = found.ownerReferences.find((reference) => reference.controller === true);
  if (controller === undefined) {
    return found.labels[MANAGED_BY_LABEL] === MANAGED_BY
      ? undefined
      : "no CacheNamespace (it is not labelled as the operator's)";
  }
  if (controller.uid === desired.ownerReference.uid) return undefined;
  const sameObject =
    controller.kind === KIND &&
    controller.apiVersion.startsWith(`${GROUP}/`) &&
    controller.name === desired.ownerReference.name;
  return sameObject ? undefined : `${controller.kind} ${controller.name}`;
}

function upToDate(found: SecretView, desired: DesiredState['secret'], password: string): boolean {
  const references = found.ownerReferences;
  return (
    found.values[desired.passwordKey] === password &&
    found.values[desired.usernameKey] === desired.username &&
    Object.entries(desired.labels).every(([name, value]) => found.labels[name] === value) &&
    references.filter((reference) => reference.controller === true).length === 1 &&
    references.some(
      (reference) =>
        reference.uid === desired.ownerReference.uid &&
        reference.controller === true &&
        reference.apiVersion === API_VERSION,
    )
  );
}

function secretWrite(
  desired: DesiredState['secret'],
  found: SecretView | undefined,
  password: string,
): SecretWrite {
  const others = (found?.ownerReferences ?? []).filter(
    (reference) => reference.controller !== true && reference.uid !== desired.ownerReference.uid,
  );
  return {
    namespace: desired.namespace,
    name: desired.name,
    resourceVersion: found?.resourceVersion,
    labels: { ...found?.labels, ...desired.labels },
    annotations: found?.annotations,
    ownerReferences: [desired.ownerReference, ...others],
    values: {
      ...found?.values,
      [desired.usernameKey]: desired.username,
      [desired.passwordKey]: password,
    },
  };
}
