import type { LocalStore } from '../local/local-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { isUnavailable, type GuardedRemote } from '../redis/guarded-remote.ts';
import type { PendingWrite, WriteJournal } from './write-journal.ts';

export interface DegradedReplayerDeps {
  journal: WriteJournal;
  remote: GuardedRemote;
  local: LocalStore | undefined;
  metrics: Metrics;
  logger: Logger;
  /** How often to probe Redis while the breaker is not closed, and to retry pending replays. */
  intervalMs: number;
  now?: () => number;
  /** Writes replayed at once. */
  concurrency?: number;
}

/**
 * Replays degraded writes to Redis once it is back (SEED-DESIGN property 18). Values are written
 * only if Redis holds nothing newer, and tombstones delete only what is not newer, so a replay never
 * overwrites a later write from another replica. While the breaker is not closed it probes Redis
 * (PING through the breaker) every interval, so that recovery is noticed without traffic.
 */
export class DegradedReplayer {
  readonly #deps: DegradedReplayerDeps;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(deps: DegradedReplayerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  start(): void {
    this.#timer = setInterval(() => void this.runOnce(), this.#deps.intervalMs);
    this.#timer.unref();
    this.#unsubscribe = this.#deps.remote.breaker.onStateChange((state) => {
      if (state === 'closed') void this.runOnce();
    });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
  }

  /** One pass: probe if needed, then replay what is pending. Passes never overlap. */
  runOnce(): Promise<void> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(): Promise<void> {
    const { journal, remote } = this.#deps;
    if (remote.breaker.state() !== 'closed') {
      try {
        await remote.call('ping', (store) => store.ping());
      } catch {
        return;
      }
    }
    if (journal.size === 0) return;
    const pending = journal.snapshot();
    const concurrency = this.#deps.concurrency ?? 32;
    let stopped = false;
    const next = (): [string, PendingWrite] | undefined => (stopped ? undefined : pending.shift());
    const worker = async (): Promise<void> => {
      for (let item = next(); item !== undefined; item = next()) {
        if (!(await this.#replay(item[0], item[1]))) stopped = true;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (!stopped)
      this.#deps.logger.info({ replayed: true, pendingWrites: journal.size }, 'degraded writes replayed');
  }

  /** Replays one write; false when Redis is unreachable again (the pass stops). */
  async #replay(key: string, write: PendingWrite): Promise<boolean> {
    const { journal, remote, local, metrics } = this.#deps;
    if (write.kind === 'set' && write.stored.expiresAt <= this.#now()) {
      journal.remove(key, write);
      metrics.replay('expired');
      return true;
    }
    try {
      const outcome =
        write.kind === 'set'
          ? await remote.call('replay_set', (store) => store.setIfNotNewer(key, write.stored))
          : await remote.call('replay_del', (store) => store.deleteIfNotNewer(key, write.deletedAt));
      journal.remove(key, write);
      // Redis's copy is the truth from now on; a stale near-cache copy must not outlive the write.
      if (outcome === 'skipped-newer') local?.delete(key);
      metrics.replay(outcome === 'applied' ? 'applied' : 'skipped_newer');
      return true;
    } catch (error) {
      metrics.replay('failed');
      if (isUnavailable(error)) return false;
      this.#deps.logger.error({ err: error, key }, 'replay of a degraded write failed; it stays pending');
      return true;
    }
  }
}
