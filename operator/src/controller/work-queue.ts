// A keyed work queue, as client-go's workqueue: keys (`namespace/name`) wait once however often they
// are added; a key is handled by one worker at a time (added again while it is being handled, it
// is handled again afterwards); failures come back after a per-key exponential backoff that a
// success resets. Bounded: at most one entry per key, `concurrency` workers.

export type ReconcileResult =
  /** The world matches the object; nothing to do until something changes (or the next resync). */
  | { result: 'done' }
  /**
   * Come back. With `after`: in that many ms (a planned wait, not a failure: the backoff is reset).
   * Without: after the key's backoff (a failure that is expected to pass, e.g. Redis down).
   */
  | { result: 'requeue'; after?: number | undefined };

export type Handler = (key: string) => Promise<ReconcileResult>;

/** What a worker did with a key; `error` when the handler threw (retried with backoff). */
export type Outcome = 'done' | 'requeue' | 'error';

export interface WorkQueueOptions {
  /** Workers handling keys at once. @default 2 */
  concurrency?: number | undefined;
  /** Backoff after a key's first failure; doubles per consecutive failure. @default 100 */
  baseDelayMs?: number | undefined;
  /** Longest backoff. @default 60_000 */
  maxDelayMs?: number | undefined;
  /** Called with the number of keys waiting for a worker whenever it changes. */
  onDepth?: ((depth: number) => void) | undefined;
  /** Called after each handled key. */
  onOutcome?: ((key: string, outcome: Outcome, error?: unknown) => void) | undefined;
}

export class WorkQueue {
  readonly #concurrency: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #onDepth: (depth: number) => void;
  readonly #onOutcome: (key: string, outcome: Outcome, error?: unknown) => void;
  /** Keys waiting for a worker, in order; `#waiting` holds the same keys for lookups. */
  #ready: string[] = [];
  readonly #waiting = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys added while being processed, with why: handled again when their worker is done. */
  readonly #dirty = new Map<string, Array<() => boolean>>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { timer: NodeJS.Timeout; at: number }>();
  /** Idle workers waiting for a key. */
  #idle: Array<(key: string | undefined) => void> = [];
  #workers: Array<Promise<void>> = [];
  #running = false;
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#concurrency = options.concurrency ?? 2;
    this.#baseDelayMs = options.baseDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#onDepth = options.onDepth ?? (() => {});
    this.#onOutcome = options.onOutcome ?? (() => {});
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new Error(`WorkQueue: concurrency must be a positive integer, not ${this.#concurrency}`);
    }
  }

  /** Keys waiting for a worker (not those being handled or waiting for a delay). */
  get depth(): number {
    return this.#ready.length;
  }

  /** Whether workers are running. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Queues `key` unless it is already waiting; if it is being handled, it is handled again after.
   * `moot`, when given, is asked when the key is free (now, or when its running pass ends) whether
   * the event that asked for this is already dealt with — e.g. it reports the running pass's own
   * write, whose response that pass had not read yet when the event arrived.
   */
  add(key: string, moot?: () => boolean): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      const reasons = this.#dirty.get(key) ?? [];
      reasons.push(moot ?? (() => false));
      this.#dirty.set(key, reasons);
      return;
    }
    if (moot?.() === true) return;
    if (this.#waiting.has(key)) return;
    this.#waiting.add(key);
    const worker = this.#idle.shift();
    if (worker !== undefined) {
      this.#waiting.delete(key);
      // Marked now, not when the worker resumes: an add() in between must not hand it to another.
      this.#processing.add(key);
      worker(key);
      return;
    }
    this.#ready.push(key);
    this.#onDepth(this.#ready.length);
  }

  /** Queues `key` in `ms` (an earlier pending delay for the key wins). */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#delayed.set(key, { timer, at });
  }

  /** Queues `key` after its backoff, and lengthens the backoff. Returns the delay in ms. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = Math.min(this.#baseDelayMs * 2 ** failures, this.#maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff (after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Consecutive failures of the key so far. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Starts `concurrency` workers calling `handler`; keys added before are handled now. */
  start(handler: Handler): void {
    if (this.#running || this.#shutDown) return;
    this.#running = true;
    this.#workers = Array.from({ length: this.#concurrency }, () => this.#work(handler));
  }

  /**
   * Stops the workers once the keys they are handling are done; waiting keys stay queued (for the
   * next start, e.g. when leadership comes back).
   */
  async stop(): Promise<void> {
    this.#running = false;
    const idle = this.#idle;
    this.#idle = [];
    idle.forEach((wake) => wake(undefined));
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  /** Stops the workers and drops everything: no key is accepted any more. */
  async shutDown(): Promise<void> {
    this.#shutDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    await this.stop();
    this.#ready = [];
    this.#waiting.clear();
    this.#onDepth(0);
  }

  async #work(handler: Handler): Promise<void> {
    for (;;) {
      const key = await this.#next();
      if (key === undefined) return;
      try {
        const outcome = await handler(key);
        if (outcome.result === 'done') {
          this.forget(key);
          this.#onOutcome(key, 'done');
        } else if (outcome.after !== undefined) {
          this.forget(key);
          this.addAfter(key, outcome.after);
          this.#onOutcome(key, 'requeue');
        } else {
          this.addRateLimited(key);
          this.#onOutcome(key, 'requeue');
        }
      } catch (error) {
        this.addRateLimited(key);
        this.#onOutcome(key, 'error', error);
      } finally {
        this.#processing.delete(key);
        const reasons = this.#dirty.get(key);
        this.#dirty.delete(key);
        if (reasons !== undefined && reasons.some((moot) => !moot())) this.add(key);
      }
    }
  }

  #next(): Promise<string | undefined> {
    if (!this.#running) return Promise.resolve(undefined);
    const key = this.#ready.shift();
    if (key !== undefined) {
      this.#waiting.delete(key);
      this.#processing.add(key);
      this.#onDepth(this.#ready.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
