import { Cluster } from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import { isClientReady, type RedisClient } from './connect.ts';
import { decodeEnvelope, encodeEnvelope, timestampHex } from './envelope.ts';
import { hashSlot } from './hash-slot.ts';
import type { ConditionalResult, RemoteStore, StoredValue } from './remote-store.ts';

/*
 * Conditional writes for replaying a journal after an outage: a replayed write or delete must not
 * clobber a copy that another writer stored later. The scripts read the stored envelope's
 * writtenAt (bytes 3..18, fixed-width hex, see envelope.ts) and compare it as a string with the
 * incoming one. Anything that is not a v1 envelope counts as older. One key each: cluster-safe.
 */
const STORED_WRITTEN_AT_LUA = `
local function written_at(v)
  if v and #v >= 34 and string.byte(v, 1) == 202 and string.byte(v, 2) == 1 then
    local stamp = string.sub(v, 3, 18)
    if string.match(stamp, '^[0-9a-f]+$') then return stamp end
  end
  return nil
end
local stored = written_at(redis.call('GET', KEYS[1]))
if stored and stored > ARGV[1] then return 0 end
`;

/** KEYS[1] key; ARGV[1] incoming writtenAt (hex); ARGV[2] envelope; ARGV[3] TTL in ms. 1 = applied. */
const SET_IF_NOT_NEWER_LUA = `${STORED_WRITTEN_AT_LUA}
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/** KEYS[1] key; ARGV[1] deletedAt (hex). 1 = applied (deleted, or nothing to delete). */
const DELETE_IF_NOT_NEWER_LUA = `${STORED_WRITTEN_AT_LUA}
redis.call('DEL', KEYS[1])
return 1
`;

/** The commands `defineCommand` adds to the client. */
interface ConditionalCommands {
  cacheplaneSetIfNotNewer(
    key: string,
    writtenAtHex: string,
    envelope: Buffer,
    ttlMs: number,
  ): Promise<number>;
  cacheplaneDeleteIfNotNewer(key: string, deletedAtHex: string): Promise<number>;
}

/** Redis (standalone or cluster) behind the RemoteStore interface, over one ioredis client. */
export class RedisStore implements RemoteStore {
  readonly mode: 'standalone' | 'cluster';
  readonly #client: RedisClient & ConditionalCommands;
  #closed = false;

  /** Takes ownership of the client (see connect.ts): close() closes it. */
  constructor(client: RedisClient) {
    this.mode = client instanceof Cluster ? 'cluster' : 'standalone';
    client.defineCommand('cacheplaneSetIfNotNewer', { numberOfKeys: 1, lua: SET_IF_NOT_NEWER_LUA });
    client.defineCommand('cacheplaneDeleteIfNotNewer', { numberOfKeys: 1, lua: DELETE_IF_NOT_NEWER_LUA });
    this.#client = client as RedisClient & ConditionalCommands;
  }

  async get(key: string): Promise<StoredValue | undefined> {
    this.#assertReady();
    const raw = await this.#client.getBuffer(key);
    return raw === null ? undefined : decodeEnvelope(raw);
  }

  async getMany(keys: readonly string[]): Promise<Array<StoredValue | undefined>> {
    if (keys.length === 0) return [];
    this.#assertReady();
    const results = new Array<StoredValue | undefined>(keys.length).fill(undefined);
    // MGET only takes keys of one hash slot in a cluster: one MGET per slot, all in parallel.
    await Promise.all(
      this.#groupBySlot(keys).map(async (indices) => {
        const raws = await this.#client.mgetBuffer(indices.map((index) => keys[index] as string));
        indices.forEach((index, position) => {
          const raw = raws[position];
          if (raw !== null && raw !== undefined) results[index] = decodeEnvelope(raw);
        });
      }),
    );
    return results;
  }

  async set(key: string, stored: StoredValue): Promise<void> {
    this.#assertReady();
    await this.#client.set(key, encodeEnvelope(stored), 'PX', ttlMs(stored));
  }

  async setMany(entries: ReadonlyArray<readonly [string, StoredValue]>): Promise<void> {
    if (entries.length === 0) return;
    this.#assertReady();
    const keys = entries.map(([key]) => key);
    // A cluster pipeline must stay on one node: one pipeline per slot, all in parallel.
    await Promise.all(
      this.#groupBySlot(keys).map(async (indices) => {
        const pipeline = this.#client.pipeline();
        for (const index of indices) {
          const [key, stored] = entries[index] as readonly [string, StoredValue];
          pipeline.set(key, encodeEnvelope(stored), 'PX', ttlMs(stored));
        }
        await execOrThrow(pipeline);
      }),
    );
  }

  async delete(key: string): Promise<boolean> {
    this.#assertReady();
    return (await this.#client.del(key)) > 0;
  }

  async setIfNotNewer(key: string, stored: StoredValue): Promise<ConditionalResult> {
    this.#assertReady();
    const applied = await this.#client.cacheplaneSetIfNotNewer(
      key,
      timestampHex(stored.writtenAt),
      encodeEnvelope(stored),
      ttlMs(stored),
    );
    return applied === 1 ? 'applied' : 'skipped-newer';
  }

  async deleteIfNotNewer(key: string, deletedAt: number): Promise<ConditionalResult> {
    this.#assertReady();
    const applied = await this.#client.cacheplaneDeleteIfNotNewer(key, timestampHex(deletedAt));
    return applied === 1 ? 'applied' : 'skipped-newer';
  }

  async ping(): Promise<void> {
    this.#assertReady();
    await this.#client.ping();
  }

  isConnected(): boolean {
    return !this.#closed && isClientReady(this.#client);
  }

  /** QUIT, or when that fails (not connected, timed out), drop the sockets and stop reconnecting. */
  async close(): Promise<void> {
    // The sockets close only after QUIT's reply: report closed from now on, not from then.
    this.#closed = true;
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }

  /**
   * Fails fast when the client is not ready. Without an offline queue ioredis already rejects most
   * such commands, but a cluster with auto-pipelining would hold them until it is ready.
   */
  #assertReady(): void {
    if (this.#closed) throw new Error('Redis store is closed');
    if (this.#client.status !== 'ready') {
      throw new Error(`Redis is not connected (client status: ${this.#client.status})`);
    }
  }

  /** Indices of `keys` grouped by hash slot (one group in standalone mode). */
  #groupBySlot(keys: readonly string[]): number[][] {
    if (this.mode === 'standalone') return [keys.map((_, index) => index)];
    const groups = new Map<number, number[]>();
    keys.forEach((key, index) => {
      const slot = hashSlot(key);
      const group = groups.get(slot);
      if (group === undefined) groups.set(slot, [index]);
      else group.push(index);
    });
    return [...groups.values()];
  }
}

/** Redis TTL for a stored value: what is left until expiresAt, at least 1 ms. */
function ttlMs(stored: StoredValue): number {
  return Math.max(1, Math.ceil(stored.expiresAt - Date.now()));
}

async function execOrThrow(pipeline: ChainableCommander): Promise<void> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('Redis pipeline was discarded');
  for (const [error] of results) {
    if (error !== null) throw error;
  }
}
