// Cache namespace names are global (one Redis keyspace, one data-plane API), but CacheNamespace
// objects live in Kubernetes namespaces: two teams can claim the same name. The oldest claim wins,
// deterministically, so that every operator replica and every reconcile pass agrees; the others
// report Ready=False with reason NamespaceConflict and touch nothing.

export interface Claim {
  /** The Kubernetes namespace and name of the CacheNamespace. */
  namespace: string;
  name: string;
  uid: string;
  /** RFC 3339 (the API server's creationTimestamp), or a Date. */
  creationTimestamp: string | Date | undefined;
  /** Objects being deleted give their claim up. */
  deleting: boolean;
}

/**
 * The claim that holds a cache namespace among all live claims on it: the oldest by
 * creationTimestamp, ties broken by Kubernetes namespace, name, then uid. Undefined when every
 * claim is being deleted.
 */
export function winningClaim(claims: readonly Claim[]): Claim | undefined {
  return claims.filter((claim) => !claim.deleting).sort(compareClaims)[0];
}

function compareClaims(a: Claim, b: Claim): number {
  return (
    createdAt(a) - createdAt(b) ||
    compareText(a.namespace, b.namespace) ||
    compareText(a.name, b.name) ||
    compareText(a.uid, b.uid)
  );
}

/** Milliseconds since the epoch; a claim without a timestamp sorts last. */
function createdAt(claim: Claim): number {
  if (claim.creationTimestamp === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = new Date(claim.creationTimestamp).getTime();
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
