// Where the data plane's per-namespace configuration comes from. The operator publishes it as two
// objects in the data plane's own Kubernetes namespace (operator/README.md, "Data-plane
// configuration"): a ConfigMap whose keys `<cacheNamespace>.json` hold one config entry each, and a
// Secret whose keys `<cacheNamespace>.username` / `<cacheNamespace>.password` hold the credentials
// of each namespace's Redis ACL user. A source only reads and watches; the registry parses.

/** Both objects as they are now. A missing object reads as empty. */
export interface NamespaceConfigSnapshot {
  /** The ConfigMap's `data`: `<cacheNamespace>.json` → the entry's JSON text. */
  readonly entries: Readonly<Record<string, string>>;
  /** The Secret's `data`, decoded from base64 to UTF-8 text. */
  readonly credentials: Readonly<Record<string, string>>;
}

export interface NamespaceConfigSource {
  /**
   * Reads both objects and resolves with the first snapshot once both were read (or found
   * missing); from then on calls `onChange` with a whole new snapshot whenever either changes.
   * Rejects when the first read fails (unreachable API, no permission): the data plane must not
   * serve without its namespaces.
   */
  start(onChange: (snapshot: NamespaceConfigSnapshot) => void): Promise<NamespaceConfigSnapshot>;
  /** True while the source is connected and current (watches running, not stalled). */
  healthy(): boolean;
  /** Stops watching. */
  close(): Promise<void>;
}
