// Small facts about stored CacheNamespace objects that the reconcile and the event handlers share:
// the finalizer, deletion, and who claims which cache namespace. They read the object as stored
// (not validated), leniently: an object the operator cannot parse still has a name and a claim.
import { LIMITS } from '../api/types.ts';
import { winningClaim, type Claim } from '../desired/claims.ts';
import { configEntryKey } from '../desired/config-entry.ts';
import { aclUserName, sharedCredentialKeys } from '../desired/desired-state.ts';
import type { CacheNamespaceObject } from './cluster-api.ts';
import type { EventTarget } from './events.ts';

/** Held on every CacheNamespace the operator has acted on, until its Redis user and entry are gone. */
export const FINALIZER = 'cacheplane.dev/cleanup';

export function hasFinalizer(object: CacheNamespaceObject): boolean {
  return object.metadata.finalizers?.includes(FINALIZER) ?? false;
}

export function withFinalizer(object: CacheNamespaceObject): CacheNamespaceObject {
  if (hasFinalizer(object)) return object;
  return {
    ...object,
    metadata: { ...object.metadata, finalizers: [...(object.metadata.finalizers ?? []), FINALIZER] },
  };
}

export function withoutFinalizer(object: CacheNamespaceObject): CacheNamespaceObject {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      finalizers: (object.metadata.finalizers ?? []).filter((finalizer) => finalizer !== FINALIZER),
    },
  };
}

export function isDeleting(object: CacheNamespaceObject): boolean {
  return object.metadata.deletionTimestamp !== undefined && object.metadata.deletionTimestamp !== null;
}

/** spec.cacheNamespace, else metadata.name; undefined when that is not a DNS label. */
export function effectiveCacheNamespace(object: CacheNamespaceObject): string | undefined {
  const spec = object.spec as { cacheNamespace?: unknown } | undefined;
  const name = typeof spec?.cacheNamespace === 'string' ? spec.cacheNamespace : object.metadata.name;
  return LIMITS.namePattern.test(name) ? name : undefined;
}

/** The names of what the operator creates for an object. */
export interface OwnedNames {
  cacheNamespace: string;
  aclUser: string;
  configKey: string;
  /** Its keys in the data plane's shared credentials Secret. */
  credentialKeys: { usernameKey: string; passwordKey: string };
}

/** The names of what the operator creates for the object, from its stored form. */
export function ownedNames(object: CacheNamespaceObject, aclUserPrefix: string): OwnedNames | undefined {
  const cacheNamespace = effectiveCacheNamespace(object);
  if (cacheNamespace === undefined || !LIMITS.namePattern.test(object.metadata.namespace)) return undefined;
  return {
    cacheNamespace,
    aclUser: aclUserName(aclUserPrefix, object.metadata.namespace, cacheNamespace),
    configKey: configEntryKey(cacheNamespace),
    credentialKeys: sharedCredentialKeys(cacheNamespace),
  };
}

export function claimOf(object: CacheNamespaceObject): Claim {
  return {
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    uid: object.metadata.uid,
    creationTimestamp: object.metadata.creationTimestamp,
    deleting: isDeleting(object),
  };
}

/** The objects (from `all`) that claim the same cache namespace as `object`, itself included. */
export function claimants(
  object: CacheNamespaceObject,
  all: readonly CacheNamespaceObject[],
): CacheNamespaceObject[] {
  const name = effectiveCacheNamespace(object);
  if (name === undefined) return [object];
  const found = all.filter((other) => effectiveCacheNamespace(other) === name);
  return found.some((other) => other.metadata.uid === object.metadata.uid) ? found : [...found, object];
}

/** Whether a live object other than `object` claims its cache namespace. */
export function claimedByAnother(
  object: CacheNamespaceObject,
  all: readonly CacheNamespaceObject[],
): boolean {
  return claimants(object, all).some(
    (other) => other.metadata.uid !== object.metadata.uid && !isDeleting(other),
  );
}

/** The live object that holds `object`'s cache namespace instead of it; undefined when it holds it. */
export function winningRival(
  object: CacheNamespaceObject,
  all: readonly CacheNamespaceObject[],
): CacheNamespaceObject | undefined {
  const candidates = claimants(object, all);
  const winner = winningClaim(candidates.map(claimOf));
  if (winner === undefined || winner.uid === object.metadata.uid) return undefined;
  return candidates.find((candidate) => candidate.metadata.uid === winner.uid);
}

/** Whether the live object `holderUid` has a stronger claim than `object` on its cache namespace. */
export function holderWins(
  object: CacheNamespaceObject,
  holderUid: string,
  all: readonly CacheNamespaceObject[],
): boolean {
  const holder = all.find((candidate) => candidate.metadata.uid === holderUid);
  if (holder === undefined || isDeleting(holder)) return false;
  return winningClaim([claimOf(object), claimOf(holder)])?.uid === holderUid;
}

/** The object as the subject of an Event. */
export function eventTarget(object: CacheNamespaceObject): EventTarget {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
    uid: object.metadata.uid,
    resourceVersion: object.metadata.resourceVersion,
  };
}
