// LeaseElection against an in-memory Lease with the API server's optimistic concurrency, and short
// real timings (lease 600 ms, renew deadline 400 ms, retry 50 ms). The real-Lease version, with
// operator processes, is test/integration/leader-election.test.ts.
import test from 'ava';
import {
  LeaseConflict,
  LeaseElection,
  type LeaseApi,
  type LeaseRecord,
} from '../../src/leader/lease-election.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet = { info: () => {}, warn: () => {} };

class MemoryLease implements LeaseApi {
  record: LeaseRecord | undefined;
  #rv = 0;
  /** Identities whose writes fail (as if their API server connection were cut). */
  readonly cutOff = new Set<string>();

  async read(): Promise<LeaseRecord | undefined> {
    await Promise.resolve();
    return this.record === undefined ? undefined : { ...this.record };
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    await Promise.resolve();
    this.#check(record);
    if (this.record !== undefined) throw new LeaseConflict();
    return this.#store(record);
  }

  async replace(record: LeaseRecord): Promise<LeaseRecord> {
    await Promise.resolve();
    this.#check(record);
    if (this.record?.resourceVersion !== record.resourceVersion) throw new LeaseConflict();
    return this.#store(record);
  }

  #check(record: LeaseRecord): void {
    if (this.cutOff.has(record.holderIdentity ?? '')) throw new Error('connection refused');
  }

  #store(record: LeaseRecord): LeaseRecord {
    this.#rv += 1;
    this.record = { ...record, resourceVersion: String(this.#rv) };
    return { ...this.record };
  }
}

function candidate(api: LeaseApi, identity: string, log: string[]) {
  return new LeaseElection({
    api,
    identity,
    leaseDurationMs: 600,
    renewDeadlineMs: 400,
    retryPeriodMs: 50,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => {
      log.push(`${identity} stopped`);
    },
    log: quiet,
  });
}

test('exactly one of two candidates leads, and keeps leading while it renews', async (t) => {
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = candidate(lease, 'a', log);
  const b = candidate(lease, 'b', log);
  a.start();
  b.start();
  await sleep(1500);
  t.is([a, b].filter((c) => c.leading).length, 1);
  t.deepEqual(log.length, 1, log.join(', '));
  const leader = a.leading ? 'a' : 'b';
  t.is(lease.record?.holderIdentity, leader);
  t.is(lease.record?.leaseTransitions, 0);
  await Promise.all([a.stop(), b.stop()]);
});

test('a leader that cannot renew stops leading at its deadline; the other takes over after the lease expires', async (t) => {
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = candidate(lease, 'a', log);
  a.start();
  await sleep(200);
  t.true(a.leading);
  const b = candidate(lease, 'b', log);
  b.start();
  await sleep(300);
  t.false(b.leading);
  const cut = Date.now();
  lease.cutOff.add('a');
  while (!b.leading) await sleep(10);
  const takeover = Date.now() - cut;
  t.false(a.leading, 'a stopped before b started');
  t.deepEqual(log, ['a started', 'a stopped', 'b started']);
  // b waits for the lease (600 ms) from when it last saw it renewed (up to 200 ms before the cut).
  t.true(takeover >= 350 && takeover < 3000, `took over after ${takeover} ms`);
  t.is(lease.record?.leaseTransitions, 1);
  await Promise.all([a.stop(), b.stop()]);
});

test('stop releases the Lease, and a successor takes it at once', async (t) => {
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = candidate(lease, 'a', log);
  a.start();
  await sleep(150);
  const b = candidate(lease, 'b', log);
  b.start();
  await sleep(150);
  const stopped = Date.now();
  await a.stop();
  t.is(lease.record?.holderIdentity, '');
  while (!b.leading) await sleep(5);
  t.true(Date.now() - stopped < 800, 'no wait for expiry (the lease is 1 s)');
  t.deepEqual(log, ['a started', 'a stopped', 'b started']);
  await b.stop();
});

test('a restarted replica with the same identity takes its own Lease back at once', async (t) => {
  const lease = new MemoryLease();
  const log: string[] = [];
  lease.record = {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: new Date(),
    renewTime: new Date(),
    leaseTransitions: 3,
    resourceVersion: '7',
  };
  const a = candidate(lease, 'a', log);
  a.start();
  await sleep(100);
  t.true(a.leading);
  t.is(lease.record.leaseTransitions, 3);
  await a.stop();
});

test('renewDeadline must be shorter than leaseDuration', (t) => {
  t.throws(
    () =>
      new LeaseElection({
        api: new MemoryLease(),
        identity: 'a',
        leaseDurationMs: 1000,
        renewDeadlineMs: 1000,
        retryPeriodMs: 100,
        onStartedLeading: () => {},
        onStoppedLeading: () => {},
        log: quiet,
      }),
    { message: /renewDeadline must be shorter/ },
  );
});
