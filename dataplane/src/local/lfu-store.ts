import { entrySize } from './local-store.ts';
import type { EvictionReason, LocalEntry, LocalStore, LocalStoreOptions } from './local-store.ts';

interface Links<T> {
  prev: T | undefined;
  next: T | undefined;
}

/** Doubly-linked list whose nodes carry their own links, so unlinking a known node is O(1). */
class LinkedList<T extends Links<T>> {
  head: T | undefined;
  tail: T | undefined;

  /** Links `node` right after `anchor`, or at the head when `anchor` is undefined. */
  insertAfter(anchor: T | undefined, node: T): void {
    node.prev = anchor;
    node.next = anchor ? anchor.next : this.head;
    if (node.next) node.next.prev = node;
    else this.tail = node;
    if (anchor) anchor.next = node;
    else this.head = node;
  }

  append(node: T): void {
    this.insertAfter(this.tail, node);
  }

  remove(node: T): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }
}

interface EntryNode extends Links<EntryNode> {
  readonly key: string;
  entry: LocalEntry;
  size: number;
  bucket: Bucket;
}

/** The entries used exactly `frequency` times, least recently used first. */
interface Bucket extends Links<Bucket> {
  readonly frequency: number;
  readonly entries: LinkedList<EntryNode>;
}

/**
 * Least-frequently-used local store, O(1) in every operation (Shah, Mitra and Matani's design):
 * buckets of equal use count sit in a list in ascending frequency, so the next victim is always
 * the head of the head bucket, and the next frequency up is always the neighbouring bucket.
 * A new entry starts at frequency 1; get and overwrite each count one use; ties go to the least
 * recently used. Options are taken as valid: build it through `createLocalStore`, which checks them.
 */
export class LfuStore implements LocalStore {
  readonly #nodes = new Map<string, EntryNode>();
  /** Non-empty buckets in ascending frequency. */
  readonly #buckets = new LinkedList<Bucket>();
  #bytes = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #onEvict: ((reason: EvictionReason) => void) | undefined;

  constructor(options: Omit<LocalStoreOptions, 'policy'>) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
    this.#now = options.now ?? Date.now;
    this.#onEvict = options.onEvict;
  }

  get size(): number {
    return this.#nodes.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): LocalEntry | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) return undefined;
    if (this.#isExpired(node.entry)) {
      this.#unlink(node);
      this.#onEvict?.('expired');
      return undefined;
    }
    this.#countUse(node);
    return node.entry;
  }

  /** Like `get`, but counts no use and drops nothing: for inspection. */
  peek(key: string): LocalEntry | undefined {
    const entry = this.#nodes.get(key)?.entry;
    return entry === undefined || this.#isExpired(entry) ? undefined : entry;
  }

  set(key: string, entry: LocalEntry): boolean {
    const size = entrySize(key, entry);
    if (size > this.#maxBytes || this.#isExpired(entry)) {
      // A refused overwrite must not leave the older value readable.
      this.delete(key);
      return false;
    }
    let node = this.#nodes.get(key);
    if (node === undefined) {
      node = this.#insert(key, entry, size);
    } else {
      this.#bytes += size - node.size;
      node.entry = entry;
      node.size = size;
      this.#countUse(node);
    }
    this.#makeRoom(node);
    return true;
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    return true;
  }

  keys(): IterableIterator<string> {
    return this.#nodes.keys();
  }

  clear(): void {
    this.#nodes.clear();
    this.#buckets.head = undefined;
    this.#buckets.tail = undefined;
    this.#bytes = 0;
  }

  #insert(key: string, entry: LocalEntry, size: number): EntryNode {
    const first = this.#buckets.head;
    const bucket = first?.frequency === 1 ? first : this.#addBucket(undefined, 1);
    const node: EntryNode = { key, entry, size, bucket, prev: undefined, next: undefined };
    bucket.entries.append(node);
    this.#nodes.set(key, node);
    this.#bytes += size;
    return node;
  }

  /** Moves the node up one frequency, as the most recently used of its new bucket. */
  #countUse(node: EntryNode): void {
    const from = node.bucket;
    const frequency = from.frequency + 1;
    const to = from.next?.frequency === frequency ? from.next : this.#addBucket(from, frequency);
    this.#detach(node);
    node.bucket = to;
    to.entries.append(node);
  }

  #addBucket(after: Bucket | undefined, frequency: number): Bucket {
    const bucket: Bucket = { frequency, entries: new LinkedList(), prev: undefined, next: undefined };
    this.#buckets.insertAfter(after, bucket);
    return bucket;
  }

  /** Takes the node out of its bucket, and the bucket out of the list once empty. */
  #detach(node: EntryNode): void {
    const bucket = node.bucket;
    bucket.entries.remove(node);
    if (bucket.entries.head === undefined) this.#buckets.remove(bucket);
  }

  #unlink(node: EntryNode): void {
    this.#detach(node);
    this.#nodes.delete(node.key);
    this.#bytes -= node.size;
  }

  /** Drops the least-frequently-used entries, never `keep`, until both bounds hold. */
  #makeRoom(keep: EntryNode): void {
    const dropped: EvictionReason[] = [];
    while (this.#nodes.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      // `keep` alone always fits (its size was checked against maxBytes), so a victim exists.
      const victim = this.#victim(keep);
      if (victim === undefined) throw new Error('LfuStore: bounds exceeded with nothing to evict');
      this.#unlink(victim);
      dropped.push(this.#isExpired(victim.entry) ? 'expired' : 'capacity');
    }
    // Reported once the store is consistent, so onEvict may call back in.
    for (const reason of dropped) this.#onEvict?.(reason);
  }

  /** The least recently used of the least frequently used entries, other than `keep`. */
  #victim(keep: EntryNode): EntryNode | undefined {
    const lowest = this.#buckets.head;
    const first = lowest?.entries.head;
    // `keep` was just appended to its bucket: if it heads the lowest one, it is alone there.
    return first !== keep ? first : lowest?.next?.entries.head;
  }

  #isExpired(entry: LocalEntry): boolean {
    return entry.expiresAt <= this.#now();
  }
}
