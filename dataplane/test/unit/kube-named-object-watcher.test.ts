// The watcher's list/watch state machine, against a scripted NamedObjectApi (the watcher's own
// seam to client-node): what the real API server only does now and then (410 Gone, an ERROR
// event, a watch closed at once) happens here on cue. The integration test runs the real thing.
import { Writable } from 'node:stream';
import test from 'ava';
import { ApiException } from '@kubernetes/client-node';
import { createLogger } from '../../src/observability/logger.ts';
import type { BackoffOptions } from '../../src/tenancy/kube-backoff.ts';
import { KubeReadError } from '../../src/tenancy/kube-errors.ts';
import { NamedObjectWatcher } from '../../src/tenancy/kube-named-object-watcher.ts';
import type { NamedObjectApi, WatchQuery } from '../../src/tenancy/kube-object-api.ts';
import { CONFIG_MAP_KIND, type WatchedList } from '../../src/tenancy/kube-watched-kinds.ts';
import { waitFor } from '../support/child-process-server.ts';

/** One watch request: the test opens it, sends events and ends it. */
class ScriptedWatch {
  readonly query: WatchQuery;
  readonly controller = new AbortController();
  readonly #onEvent: (type: string, object: unknown) => void;
  readonly #onDone: (error: unknown) => void;
  readonly #opened: PromiseWithResolvers<AbortController> = Promise.withResolvers();
  #ended = false;

  constructor(
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ) {
    this.query = query;
    this.#onEvent = onEvent;
    this.#onDone = onDone;
    // As client-node's Watch does: aborting the request ends the watch with the abort error.
    this.controller.signal.addEventListener('abort', () =>
      this.end(new DOMException('aborted', 'AbortError')),
    );
  }

  get opened(): Promise<AbortController> {
    return this.#opened.promise;
  }

  /** The server answered 200. */
  open(): void {
    this.#opened.resolve(this.controller);
  }

  event(type: string, object: unknown): void {
    this.#onEvent(type, object);
  }

  /** null: the server ended it. */
  end(error: unknown = null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onDone(error);
  }
}

/** Lists answer from `lists` in order (an Error rejects); with none left, a list hangs until aborted. */
class ScriptedApi implements NamedObjectApi {
  readonly kind = CONFIG_MAP_KIND;
  readonly namespace = 'cacheplane-system';
  readonly name = 'cacheplane-namespaces';
  readonly lists: Array<WatchedList | Error> = [];
  readonly watches: ScriptedWatch[] = [];
  listCalls = 0;
  drops = 0;

  list(signal: AbortSignal): Promise<WatchedList> {
    this.listCalls += 1;
    const next = this.lists.shift();
    if (next instanceof Error) return Promise.reject(next);
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new Error('aborted'))),
    );
  }

  watch(
    query: WatchQuery,
    onEvent: (type: string, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<AbortController> {
    const watch = new ScriptedWatch(query, onEvent, onDone);
    this.watches.push(watch);
    return watch.opened;
  }

  dropConnections(): Promise<void> {
    this.drops += 1;
    return Promise.resolve();
  }

  /** The n-th watch request (0-based), once it has been made. */
  async watchNumber(n: number): Promise<ScriptedWatch> {
    await until(() => this.watches.length > n, `watch request ${n}`);
    const watch = this.watches[n];
    if (watch === undefined) throw new Error(`no watch ${n}`);
    return watch;
  }
}

function list(resourceVersion: string, data?: Record<string, string>): WatchedList {
  return {
    metadata: { resourceVersion },
    items: data === undefined ? [] : [{ metadata: { name: 'cacheplane-namespaces', resourceVersion }, data }],
  };
}

function object(resourceVersion: string, data?: Record<string, string>): unknown {
  return { metadata: { name: 'cacheplane-namespaces', resourceVersion }, data };
}

const FAST: BackoffOptions = { initialMs: 1, maxMs: 5 };

function setUp(options: { backoff?: BackoffOptions; requestTimeoutMs?: number } = {}): {
  api: ScriptedApi;
  watcher: NamedObjectWatcher;
  changes: () => number;
  logs: Array<Record<string, unknown>>;
} {
  const api = new ScriptedApi();
  const logs: Array<Record<string, unknown>> = [];
  let changes = 0;
  const watcher = new NamedObjectWatcher({
    api,
    stallTimeoutMs: 300_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    backoff: options.backoff ?? FAST,
    logger: createLogger('debug', capture(logs)),
    onChange: () => (changes += 1),
  });
  return { api, watcher, changes: () => changes, logs };
}

function capture(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
}

function until(condition: () => boolean, what: string): Promise<void> {
  return waitFor(() => Promise.resolve(condition()), 5000, what, { intervalMs: 2 });
}

test('follows events; a bookmark moves the resourceVersion; a watch the server ends is resumed without a list', async (t) => {
  const { api, watcher, changes } = setUp();
  t.teardown(() => watcher.close());
  api.lists.push(list('10', { 'a.json': '1' }));
  await watcher.start();
  t.deepEqual(watcher.data, { 'a.json': '1' });
  t.true(watcher.healthy);

  const first = await api.watchNumber(0);
  t.is(first.query.resourceVersion, '10');
  first.open();
  first.event('MODIFIED', object('11', { 'a.json': '2' }));
  t.deepEqual(watcher.data, { 'a.json': '2' });
  t.is(changes(), 1);
  first.event('BOOKMARK', { metadata: { resourceVersion: '15' } });
  first.event('MODIFIED', object('16', { 'a.json': '2' })); // no change in the data
  t.is(changes(), 1);
  first.end();

  const second = await api.watchNumber(1);
  t.is(second.query.resourceVersion, '16');
  t.is(api.listCalls, 1);
  second.open();
  second.event('DELETED', object('17', { 'a.json': '2' }));
  t.deepEqual(watcher.data, {});
  t.is(changes(), 2);
  t.true(watcher.healthy);
  t.is(api.drops, 0);
});

test('410 Gone re-lists at once and watches from the new list', async (t) => {
  const { api, watcher, changes, logs } = setUp({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
  t.teardown(() => watcher.close());
  api.lists.push(list('10', { 'a.json': '1' }), list('50', { 'a.json': '3' }));
  await watcher.start();
  const first = await api.watchNumber(0);
  first.open();

  first.event('ERROR', {
    kind: 'Status',
    code: 410,
    reason: 'Expired',
    message: 'too old resource version: 10 (40)',
  });

  const second = await api.watchNumber(1); // no 60 s backoff
  t.true(first.controller.signal.aborted);
  t.is(second.query.resourceVersion, '50');
  t.deepEqual(watcher.data, { 'a.json': '3' });
  t.is(changes(), 1);
  t.true(watcher.healthy);
  t.is(api.drops, 0);
  t.true(logs.some((line) => line['level'] === 'info' && String(line['msg']).includes('410 Gone')));
});

test('a stalled watch: unhealthy, connections dropped, re-listed; an unchanged list hands out nothing', async (t) => {
  const { api, watcher, changes, logs } = setUp();
  t.teardown(() => watcher.close());
  api.lists.push(list('10', { 'a.json': '1' }), list('20', { 'a.json': '1' }));
  await watcher.start();
  const first = await api.watchNumber(0);
  first.open();

  first.end(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  await until(() => !watcher.healthy, 'unhealthy');
  const second = await api.watchNumber(1);
  t.is(api.drops, 1);
  t.is(second.query.resourceVersion, '20');
  t.false(watcher.healthy, 'not before the new watch runs');
  second.open();
  await until(() => watcher.healthy, 'healthy again');
  t.is(changes(), 0);
  const warning = logs.find((line) => line['level'] === 'warn');
  t.like(warning, {
    object: 'ConfigMap cacheplane-system/cacheplane-namespaces',
    reason: 'the watch delivered nothing for 300000 ms (stalled)',
    failures: 1,
  });
});

test('an ERROR event and failing re-lists back off, then the watcher recovers and hands out the change', async (t) => {
  const { api, watcher, changes, logs } = setUp();
  t.teardown(() => watcher.close());
  const unavailable = new ApiException(
    503,
    'Unknown API Status Code!',
    '{"reason":"ServiceUnavailable"}',
    {},
  );
  api.lists.push(
    list('10', { 'a.json': '1' }),
    unavailable,
    new TypeError('fetch failed'),
    list('30', { 'a.json': '2' }),
  );
  await watcher.start();
  const first = await api.watchNumber(0);
  first.open();

  first.event('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd is sad' });

  const second = await api.watchNumber(1);
  t.is(api.listCalls, 4);
  t.deepEqual(watcher.data, { 'a.json': '2' });
  t.is(changes(), 1);
  const warnings = logs.filter((line) => line['level'] === 'warn');
  t.deepEqual(
    warnings.map((line) => [line['failures'], line['reason']]),
    [
      [1, 'watch failed: HTTP 500 InternalError: etcd is sad'],
      [
        2,
        'cannot read ConfigMap "cacheplane-namespaces" in namespace "cacheplane-system": HTTP 503 ServiceUnavailable',
      ],
      [3, 'cannot read ConfigMap "cacheplane-namespaces" in namespace "cacheplane-system": fetch failed'],
    ],
  );
  second.open();
  second.event('BOOKMARK', { metadata: { resourceVersion: '31' } });
  api.lists.push(list('40', { 'a.json': '2' }));
  second.end(new DOMException('timeout', 'TimeoutError'));
  await api.watchNumber(2);
  const last = logs.filter((line) => line['level'] === 'warn').at(-1);
  t.is(last?.['failures'], 1, 'an event on a running watch starts the backoff over');
});

test('a watch the server closes at once without an event counts as a failure', async (t) => {
  const { api, watcher, logs } = setUp();
  t.teardown(() => watcher.close());
  api.lists.push(list('10'), list('11'));
  await watcher.start();
  const first = await api.watchNumber(0);
  first.open();
  first.end();

  await api.watchNumber(1);
  t.is(api.listCalls, 2);
  t.true(logs.some((line) => line['reason'] === 'the API server closed the watch at once'));
});

test('close() while a watch is being opened returns, and the request is aborted once it opens', async (t) => {
  const { api, watcher } = setUp();
  api.lists.push(list('10'));
  await watcher.start();
  const first = await api.watchNumber(0);

  await watcher.close();
  t.false(watcher.healthy);
  t.is(api.drops, 1);
  first.open();
  await until(() => first.controller.signal.aborted, 'the late request to be aborted');
});

test('close() ends a backoff pause at once', async (t) => {
  const { api, watcher } = setUp({ backoff: { initialMs: 60_000, maxMs: 60_000 } });
  api.lists.push(list('10'));
  await watcher.start();
  const first = await api.watchNumber(0);
  first.open();
  first.end(new Error('connection reset'));
  await until(() => !watcher.healthy, 'the failure');

  const started = Date.now();
  await watcher.close();
  t.true(Date.now() - started < 1000);
  t.is(api.watches.length, 1);
});

test('start rejects with a KubeReadError naming the object: the API status, or the timeout', async (t) => {
  const denied = setUp();
  denied.api.lists.push(
    new ApiException(403, 'Unknown API Status Code!', '{"reason":"Forbidden","message":"nope"}', {}),
  );
  const error = await t.throwsAsync(denied.watcher.start(), { instanceOf: KubeReadError });
  t.is(
    error.message,
    'cannot read ConfigMap "cacheplane-namespaces" in namespace "cacheplane-system": HTTP 403 Forbidden: nope',
  );
  t.is(error.status, 403);

  const silent = setUp({ requestTimeoutMs: 50 });
  const timedOut = await t.throwsAsync(silent.watcher.start(), { instanceOf: KubeReadError });
  t.is(
    timedOut.message,
    'cannot read ConfigMap "cacheplane-namespaces" in namespace "cacheplane-system": no answer within 50 ms',
  );
  t.is(silent.api.watches.length, 0);
});
