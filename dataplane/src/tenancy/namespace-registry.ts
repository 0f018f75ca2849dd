import { isDeepStrictEqual } from 'node:util';
import type { NamespaceConfigSnapshot } from './namespace-source.ts';
import { namespaceOfKey, parseNamespaceEntry, type NamespaceEntry } from './namespace-entry.ts';

/** The credentials of a namespace's Redis ACL user, or which Secret keys are missing. */
export type CredentialsLookup =
  { found: true; username: string; password: string } | { found: false; missingKeys: string[] };

/** A served namespace: its entry, and its credentials as the Secret holds them now. */
export interface NamespaceState {
  entry: NamespaceEntry;
  credentials: CredentialsLookup;
}

export type NamespaceChange =
  | { kind: 'added'; namespace: string; state: NamespaceState }
  | { kind: 'changed'; namespace: string; previous: NamespaceState; state: NamespaceState }
  | { kind: 'removed'; namespace: string; previous: NamespaceState };

/** An entry that was refused; the namespace keeps its previous good entry, if it had one. */
export interface EntryProblem {
  key: string;
  /** The namespace the key is for, when it names one. */
  namespace: string | undefined;
  problem: string;
  /** True when a previous good entry is still served. */
  keptPrevious: boolean;
}

export interface ApplyResult {
  changes: NamespaceChange[];
  /** Only entries whose text is new: a bad entry is reported once, not on every snapshot. */
  problems: EntryProblem[];
}

export type ChangeListener = (changes: readonly NamespaceChange[]) => void;

interface KeyState {
  text: string;
  /** The last good entry of this key (it may be older than `text`). */
  served: NamespaceEntry | undefined;
}

/**
 * The namespaces served, from the snapshots of a NamespaceConfigSource. Pure: no I/O, no clock.
 * Each snapshot is applied whole; an entry that fails to parse keeps the namespace's previous good
 * entry (a brand-new bad one is not served); listeners hear what was added, changed or removed.
 */
export class NamespaceRegistry {
  #keys = new Map<string, KeyState>();
  #states = new Map<string, NamespaceState>();
  readonly #listeners: ChangeListener[] = [];

  /** The namespace's state, or undefined when it is not served. */
  get(namespace: string): NamespaceState | undefined {
    return this.#states.get(namespace);
  }

  namespaces(): string[] {
    return [...this.#states.keys()];
  }

  /** Called with every non-empty list of changes; returns a function that removes the listener. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  apply(snapshot: NamespaceConfigSnapshot): ApplyResult {
    const problems: EntryProblem[] = [];
    const keys = new Map<string, KeyState>();
    for (const [key, text] of Object.entries(snapshot.entries)) {
      const previous = this.#keys.get(key);
      if (previous !== undefined && previous.text === text) {
        keys.set(key, previous);
        continue;
      }
      const parsed = parseNamespaceEntry(key, text);
      if (parsed.ok) {
        keys.set(key, { text, served: parsed.entry });
      } else {
        const served = previous?.served;
        keys.set(key, { text, served });
        problems.push({
          key,
          namespace: namespaceOfKey(key),
          problem: parsed.problem,
          keptPrevious: served !== undefined,
        });
      }
    }

    const states = new Map<string, NamespaceState>();
    for (const { served } of keys.values()) {
      if (served === undefined) continue;
      states.set(served.namespace, {
        entry: served,
        credentials: lookUpCredentials(served, snapshot.credentials),
      });
    }
    const changes = diff(this.#states, states);
    this.#keys = keys;
    this.#states = states;
    if (changes.length > 0) for (const listener of [...this.#listeners]) listener(changes);
    return { changes, problems };
  }
}

/**
 * The entry names its keys in the data plane's credentials Secret (the operator's:
 * `<namespace>.username` and `<namespace>.password`).
 */
function lookUpCredentials(
  entry: NamespaceEntry,
  secret: Readonly<Record<string, string>>,
): CredentialsLookup {
  const { usernameKey, passwordKey } = entry.redis.credentials;
  const username = Object.hasOwn(secret, usernameKey) ? secret[usernameKey] : undefined;
  const password = Object.hasOwn(secret, passwordKey) ? secret[passwordKey] : undefined;
  if (username !== undefined && username !== '' && password !== undefined && password !== '') {
    return { found: true, username, password };
  }
  const missingKeys = [
    ...(username === undefined || username === '' ? [usernameKey] : []),
    ...(password === undefined || password === '' ? [passwordKey] : []),
  ];
  return { found: false, missingKeys };
}

function diff(
  before: ReadonlyMap<string, NamespaceState>,
  after: ReadonlyMap<string, NamespaceState>,
): NamespaceChange[] {
  const changes: NamespaceChange[] = [];
  for (const [namespace, state] of after) {
    const previous = before.get(namespace);
    if (previous === undefined) changes.push({ kind: 'added', namespace, state });
    else if (!isDeepStrictEqual(previous, state))
      changes.push({ kind: 'changed', namespace, previous, state });
  }
  for (const [namespace, previous] of before) {
    if (!after.has(namespace)) changes.push({ kind: 'removed', namespace, previous });
  }
  return changes;
}
