// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
//   - a candidate takes the Lease when it is free (no holder) or expired: not renewed for
//     leaseDuration, measured on the candidate's own clock from when it last saw the record change
//     (so clocks of different machines never need to agree);
//   - the leader renews every renewDeadline / 2; when renewing has failed for renewDeadline it
//     stops leading (before anyone else can take over: renewDeadline < leaseDuration), and goes
//     back to being a candidate;
//   - on shutdown it releases the Lease (empty holder) so that a successor need not wait;
//   - every write is a PUT with the resourceVersion read: a 409 means someone else wrote first.
import { ApiException } from '@kubernetes/client-node';

/** The Lease, as this module reads and writes it. */
export interface LeaseRecord {
  holderIdentity: string | undefined;
  leaseDurationSeconds: number | undefined;
  acquireTime: Date | undefined;
  renewTime: Date | undefined;
  leaseTransitions: number | undefined;
  resourceVersion: string | undefined;
}

/** The Lease API, small enough to fake. `create`/`replace` throw LeaseConflict on a 409. */
export interface LeaseApi {
  read(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  replace(record: LeaseRecord): Promise<LeaseRecord>;
}

export class LeaseConflict extends Error {
  constructor(message = 'the Lease was written by someone else meanwhile') {
    super(message);
    this.name = 'LeaseConflict';
  }
}

export interface LeaseElectionOptions {
  api: LeaseApi;
  /** Unique per replica (hostname plus a random suffix by default). */
  identity: string;
  /** How long a Lease not renewed stays held. @default 15_000 */
  leaseDurationMs: number;
  /** How long the leader keeps leading while renewals fail. @default 10_000 */
  renewDeadlineMs: number;
  /** How often a candidate tries, and a failing leader retries. @default 2_000 */
  retryPeriodMs: number;
  /** Called when this replica becomes the leader. */
  onStartedLeading(): void;
  /** Called when it stops (lost the Lease, or shutting down); awaited before the Lease is released. */
  onStoppedLeading(): Promise<void> | void;
  log: {
    info(object: Record<string, unknown>, message: string): void;
    warn(object: Record<string, unknown>, message: string): void;
  };
  /** @default Date.now */
  now?: (() => number) | undefined;
}

export class LeaseElection {
  readonly #options: LeaseElectionOptions;
  readonly #now: () => number;
  #leading = false;
  #running = false;
  /** When this replica last renewed (its clock). */
  #lastRenew = 0;
  /** The record last read and when it was first seen in that form (the candidate's clock). */
  #observed: { key: string; at: number } | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(options: LeaseElectionOptions) {
    if (options.renewDeadlineMs >= options.leaseDurationMs) {
      throw new Error('LeaseElection: renewDeadline must be shorter than leaseDuration');
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops campaigning; a leader stops leading (awaited) and releases the Lease. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    if (this.#leading) {
      await this.#stepDown('shutting down');
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#options;
    while (this.#running) {
      const renewed = await this.#tryAcquireOrRenew();
      if (!this.#running) break;
      if (renewed) {
        this.#lastRenew = this.#now();
        this.#armDeadline();
        if (!this.#leading) {
          this.#leading = true;
          this.#options.log.info({ identity: this.#options.identity }, 'became the leader');
          this.#options.onStartedLeading();
        }
        await this.#sleep(renewDeadlineMs / 2);
      } else {
        if (this.#leading && this.#now() - this.#lastRenew >= renewDeadlineMs) {
          await this.#stepDown('could not renew the Lease within the renew deadline');
        }
        await this.#sleep(jitter(retryPeriodMs));
      }
    }
  }

  /** One attempt; true when this replica holds the Lease afterwards. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { api, identity, leaseDurationMs } = this.#options;
    const now = this.#now();
    try {
      const current = await withTimeout(api.read(), this.#callTimeout());
      const record: LeaseRecord = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        acquireTime: new Date(now),
        renewTime: new Date(now),
        leaseTransitions: 0,
        resourceVersion: undefined,
      };
      if (current === undefined) {
        await withTimeout(api.create(record), this.#callTimeout());
        return true;
      }
      const key = JSON.stringify([
        current.holderIdentity,
        current.renewTime?.getTime(),
        current.resourceVersion,
      ]);
      if (this.#observed?.key !== key) this.#observed = { key, at: now };
      const holder = current.holderIdentity ?? '';
      const heldByMe = holder === identity;
      const durationMs = (current.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
      if (holder !== '' && !heldByMe && this.#observed.at + durationMs > now) return false;
      await withTimeout(
        api.replace({
          ...record,
          acquireTime: heldByMe ? (current.acquireTime ?? record.acquireTime) : record.acquireTime,
          leaseTransitions: (current.leaseTransitions ?? 0) + (heldByMe ? 0 : 1),
          resourceVersion: current.resourceVersion,
        }),
        this.#callTimeout(),
      );
      return true;
    } catch (error) {
      if (!(error instanceof LeaseConflict)) {
        this.#options.log.warn({ error: describe(error) }, 'could not read or write the leader Lease');
      }
      return false;
    }
  }

  /** A leader's calls must end before its deadline; a candidate's within a retry period or so. */
  #callTimeout(): number {
    const { renewDeadlineMs, retryPeriodMs } = this.#options;
    if (!this.#leading) return Math.max(retryPeriodMs, 1000);
    return Math.max(this.#lastRenew + renewDeadlineMs - this.#now(), 100);
  }

  /** Steps down at the deadline even if a renewal hangs (e.g. the API server stopped answering). */
  #armDeadline(): void {
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      if (this.#leading && this.#now() - this.#lastRenew >= this.#options.renewDeadlineMs) {
        void this.#stepDown('the renew deadline passed');
      }
    }, this.#options.renewDeadlineMs);
    this.#deadline.unref();
  }

  async #stepDown(why: string): Promise<void> {
    if (!this.#leading) return;
    this.#leading = false;
    clearTimeout(this.#deadline);
    const level = why === 'shutting down' ? 'info' : 'warn';
    this.#options.log[level]({ identity: this.#options.identity, why }, 'stopped leading');
    await this.#options.onStoppedLeading();
  }

  /** Gives the Lease up (empty holder), if still ours, so that a successor can take it at once. */
  async #release(): Promise<void> {
    const { api, identity } = this.#options;
    try {
      const current = await withTimeout(api.read(), 2000);
      if (current === undefined || current.holderIdentity !== identity) return;
      await withTimeout(
        api.replace({
          ...current,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: new Date(this.#now()),
        }),
        2000,
      );
      this.#options.log.info({ identity }, 'released the leader Lease');
    } catch (error) {
      this.#options.log.warn(
        { error: describe(error) },
        'could not release the leader Lease; it will expire',
      );
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/** One line: client-node's errors carry the whole response, headers included. */
function describe(error: unknown): string {
  if (error instanceof ApiException) {
    const body = (error as ApiException<unknown>).body;
    try {
      const status = JSON.parse(String(body)) as { message?: string };
      return `HTTP ${error.code}: ${status.message ?? String(body)}`;
    } catch {
      return `HTTP ${error.code}`;
    }
  }
  return error instanceof Error ? error.message : String(error);
}

function jitter(ms: number): number {
  return ms * (1 + Math.random() * 0.2);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Lease request timed out after ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
