// The data plane's copy of every namespace's Redis credentials: one Secret in the data plane's own
// namespace (settings.dataPlaneCredentials), keys `<cacheNamespace>.username` and
// `<cacheNamespace>.password`, so that the data plane reads no Secret outside its namespace. Written
// by every reconcile through a SharedObjectWriter (writes coalesced, a 409 re-reads and recomputes).
// Created when missing, labelled as the operator's (so the Secret informer caches it), without owner
// references (its namespaces' objects live elsewhere): the finalizer removes a namespace's keys.
import { MANAGED_BY, MANAGED_BY_LABEL } from '../desired/desired-state.ts';
import type { ClusterApi, SecretView } from './cluster-api.ts';
import {
  SharedObjectWriter,
  type SharedObjectStore,
  type SharedObjectView,
  type SharedObjectWriterOptions,
} from './shared-object-writer.ts';

/** A namespace's keys in the shared Secret. */
export interface SharedCredentialKeys {
  usernameKey: string;
  passwordKey: string;
}

/** What a namespace's keys should hold (DesiredState['sharedCredentials']). */
export interface SharedCredentials extends SharedCredentialKeys {
  username: string;
}

export type MirrorOutcome = 'unchanged' | 'written';
export type UnmirrorOutcome = 'absent' | 'removed';

export class CredentialsMirror {
  readonly namespace: string;
  readonly name: string;
  readonly #writer: SharedObjectWriter;

  constructor(
    cluster: ClusterApi,
    secret: { namespace: string; name: string },
    options: SharedObjectWriterOptions = {},
  ) {
    this.namespace = secret.namespace;
    this.name = secret.name;
    this.#writer = new SharedObjectWriter(secretStore(cluster, secret), options);
  }

  /** Whether the cached Secret holds exactly these credentials for the namespace. */
  holds(credentials: SharedCredentials, password: string): boolean {
    const data = this.#writer.cached()?.data;
    return (
      data?.[credentials.usernameKey] === credentials.username && data[credentials.passwordKey] === password
    );
  }

  /** Makes the namespace's keys hold the username and `password`. */
  write(credentials: SharedCredentials, password: string): Promise<MirrorOutcome> {
    if (this.holds(credentials, password)) return Promise.resolve('unchanged');
    return this.#writer.edit<MirrorOutcome>((data) => {
      if (
        data[credentials.usernameKey] === credentials.username &&
        data[credentials.passwordKey] === password
      ) {
        return 'unchanged';
      }
      data[credentials.usernameKey] = credentials.username;
      data[credentials.passwordKey] = password;
      return 'written';
    });
  }

  /** Removes the namespace's keys (the caller decides that they are its to remove). */
  remove(keys: SharedCredentialKeys): Promise<UnmirrorOutcome> {
    return this.#writer.edit<UnmirrorOutcome>((data) => {
      if (data[keys.usernameKey] === undefined && data[keys.passwordKey] === undefined) return 'absent';
      delete data[keys.usernameKey];
      delete data[keys.passwordKey];
      return 'removed';
    });
  }

  /** Told of every version of the Secret the informer sees (undefined: deleted or unlabelled). */
  observed(resourceVersion: string | undefined): void {
    this.#writer.observed(resourceVersion);
  }
}

function secretStore(cluster: ClusterApi, secret: { namespace: string; name: string }): SharedObjectStore {
  const { namespace, name } = secret;
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY };
  /** The Secret as last read or written: its metadata goes into the next replace. */
  let latest: SecretView | undefined;
  const seen = (found: SecretView | undefined): SharedObjectView | undefined => {
    latest = found;
    return found === undefined ? undefined : view(found);
  };
  return {
    cached: () => {
      const found = cluster.getSecret(namespace, name);
      return found === undefined ? undefined : view(found);
    },
    read: async () => seen(await cluster.readSecret(namespace, name)),
    create: async (values) => {
      latest = await cluster.createSecret({ namespace, name, labels, ownerReferences: [], values });
      return view(latest);
    },
    replace: async (resourceVersion, values) => {
      // What others set on it (labels, annotations, owners) is kept.
      const base =
        latest?.resourceVersion === resourceVersion ? latest : (cluster.getSecret(namespace, name) ?? latest);
      const replaced = await cluster.replaceSecret({
        namespace,
        name,
        resourceVersion,
        labels: { ...base?.labels, ...labels },
        annotations: base?.annotations,
        ownerReferences: base?.ownerReferences ?? [],
        values,
      });
      latest = replaced;
      return view(replaced);
    },
  };
}

function view(secret: SecretView): SharedObjectView {
  return {
    resourceVersion: secret.resourceVersion ?? '',
    data: secret.values,
    // Without the label the Secret informer does not see it: relabel it with the next write.
    needsRepair: secret.labels[MANAGED_BY_LABEL] !== MANAGED_BY,
  };
}
