// The resourceVersions of the operator's own recent writes, per object. An informer event that
// carries one of them only reports what the pass that wrote it already knows, so it wakes nothing:
// without this, every pass would wake itself once per object it wrote (and, reading a cache that
// is a moment behind its own write, often end in a 409).
//
// A few recent versions are kept per object, not only the last: one pass writes an object more
// than once (finalizer, then status; the ConfigMap many times in a burst), and the event of an
// earlier write arrives after the later write was recorded.
const KEPT_PER_OBJECT = 16;

export class OwnWrites {
  readonly #recent = new Map<string, string[]>();

  record(kind: string, namespace: string, name: string, resourceVersion: string | undefined): void {
    if (resourceVersion === undefined || resourceVersion === '') return;
    const key = `${kind}/${namespace}/${name}`;
    const versions = this.#recent.get(key) ?? [];
    versions.push(resourceVersion);
    if (versions.length > KEPT_PER_OBJECT) versions.shift();
    this.#recent.set(key, versions);
  }

  /** Whether this version of the object is one the operator wrote. */
  isOwn(kind: string, namespace: string, name: string, resourceVersion: string | undefined): boolean {
    if (resourceVersion === undefined) return false;
    return this.#recent.get(`${kind}/${namespace}/${name}`)?.includes(resourceVersion) ?? false;
  }

  /** Forgets a deleted object. */
  forget(kind: string, namespace: string, name: string): void {
    this.#recent.delete(`${kind}/${namespace}/${name}`);
  }
}
