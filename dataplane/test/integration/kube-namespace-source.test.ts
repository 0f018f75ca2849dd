// The Kubernetes namespace source against a real kube-apiserver (scripts/kube-test-env.sh): the
// data plane reads as a service account whose Role allows get/list/watch on the two names only.
// Serial: one test restarts the API server the others use.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../src/observability/logger.ts';
import type { BackoffOptions } from '../../src/tenancy/kube-backoff.ts';
import { KubeReadError } from '../../src/tenancy/kube-errors.ts';
import {
  createKubeNamespaceSource,
  type KubeNamespaceSourceOptions,
} from '../../src/tenancy/kube-namespace-source.ts';
import type { NamespaceConfigSnapshot, NamespaceConfigSource } from '../../src/tenancy/namespace-source.ts';
import { freePort, LOOPBACK, waitFor } from '../support/child-process-server.ts';
import { startConnectionProxy, type ConnectionProxy } from '../support/kube-connection-proxy.ts';
import {
  ensureNamespace,
  grantRead,
  serviceAccountKubeConfig,
  startKubeApi,
  tokenKubeConfig,
  type KubeApi,
  type NamedRead,
} from '../support/kube-harness.ts';

const CONFIG_MAP = 'cacheplane-namespaces';
const SECRET = 'cacheplane-namespace-credentials';
const BOTH: readonly NamedRead[] = [
  { resource: 'configmaps', name: CONFIG_MAP },
  { resource: 'secrets', name: SECRET },
];
const FAST_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 1000 };
const WAIT_MS = 30_000;
const EMPTY = { entries: {}, credentials: {} };

let kubeApi: KubeApi | undefined;

test.before(async (t) => {
  const started = Date.now();
  kubeApi = await startKubeApi();
  t.log(`kube-apiserver started in ${Date.now() - started} ms`);
});

test.after.always(async () => {
  await kubeApi?.stop();
});

function api(): KubeApi {
  if (kubeApi === undefined) throw new Error('the API server did not start');
  return kubeApi;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

let tenants = 0;

/** A namespace of its own and a `dataplane` service account allowed to read `reads` there. */
async function tenant(
  reads: readonly NamedRead[] = BOTH,
  server?: string,
): Promise<{ namespace: string; kubeConfig: KubeConfig }> {
  tenants += 1;
  const namespace = `dataplane-${tenants}`;
  await ensureNamespace(api(), namespace);
  const account = { namespace, name: 'dataplane' };
  if (reads.length > 0) await grantRead(api(), account, reads);
  return { namespace, kubeConfig: await serviceAccountKubeConfig(api(), account, server) };
}

async function proxy(t: ExecutionContext): Promise<ConnectionProxy> {
  const started = await startConnectionProxy(new URL(api().server));
  t.teardown(() => started.close());
  return started;
}

type LogLine = Record<string, unknown>;

interface Watched {
  readonly source: NamespaceConfigSource;
  readonly snapshots: SnapshotQueue;
  readonly logs: LogLine[];
  readonly start: () => Promise<NamespaceConfigSnapshot>;
}

function watched(
  t: ExecutionContext,
  kubeConfig: KubeConfig,
  namespace: string,
  options: Partial<KubeNamespaceSourceOptions> = {},
): Watched {
  const logs: LogLine[] = [];
  const source = createKubeNamespaceSource({
    kubeConfig,
    namespace,
    configMapName: CONFIG_MAP,
    secretName: SECRET,
    logger: createLogger('debug', captureLines(logs)),
    backoff: FAST_BACKOFF,
    ...options,
  });
  t.teardown(() => source.close());
  const snapshots = new SnapshotQueue();
  return { source, snapshots, logs, start: () => source.start((snapshot) => snapshots.push(snapshot)) };
}

/** The snapshots handed to onChange, in order. */
class SnapshotQueue {
  readonly #queued: NamespaceConfigSnapshot[] = [];

  push(snapshot: NamespaceConfigSnapshot): void {
    this.#queued.push(snapshot);
  }

  get pending(): number {
    return this.#queued.length;
  }

  async next(): Promise<NamespaceConfigSnapshot> {
    await until(() => this.#queued.length > 0, 'a snapshot');
    const snapshot = this.#queued.shift();
    if (snapshot === undefined) throw new Error('no snapshot');
    return snapshot;
  }
}

function captureLines(lines: LogLine[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
}

function warnings(logs: readonly LogLine[]): LogLine[] {
  return logs.filter((line) => line['level'] === 'warn');
}

function until(condition: () => boolean, what: string): Promise<void> {
  return waitFor(() => Promise.resolve(condition()), WAIT_MS, what, { intervalMs: 20 });
}

// Writes, as the operator makes them (with admin rights, straight to the API server).

async function putConfigMap(namespace: string, data: Record<string, string>): Promise<void> {
  const body = { metadata: { name: CONFIG_MAP }, data };
  try {
    await api().core.createNamespacedConfigMap({ namespace, body });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
    await api().core.replaceNamespacedConfigMap({ namespace, name: CONFIG_MAP, body });
  }
}

async function putSecret(namespace: string, stringData: Record<string, string>): Promise<void> {
  const body = { metadata: { name: SECRET }, stringData };
  try {
    await api().core.createNamespacedSecret({ namespace, body });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
    await api().core.replaceNamespacedSecret({ namespace, name: SECRET, body });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and following changes

test.serial('reads missing objects as empty, then follows creates, updates and deletes', async (t) => {
  const { namespace, kubeConfig } = await tenant();
  const { source, snapshots, start } = watched(t, kubeConfig, namespace);

  t.deepEqual(await start(), EMPTY);
  t.true(source.healthy());

  const orders = { 'orders.json': '{"keyPrefix":"orders:"}' };
  await putConfigMap(namespace, orders);
  t.deepEqual(await snapshots.next(), { entries: orders, credentials: {} });

  const credentials = { 'orders.username': 'orders', 'orders.password': 'pä$$ wörd ✓' };
  await putSecret(namespace, credentials);
  t.deepEqual(await snapshots.next(), { entries: orders, credentials });

  // Other objects in the namespace are neither read nor watched.
  await api().core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: 'unrelated' }, data: { 'x.json': '{}' } },
  });
  const both = { ...orders, 'billing.json': '{"keyPrefix":"billing:"}' };
  await putConfigMap(namespace, both);
  t.deepEqual(await snapshots.next(), { entries: both, credentials });

  await api().core.deleteNamespacedSecret({ namespace, name: SECRET });
  t.deepEqual(await snapshots.next(), { entries: both, credentials: {} });

  await api().core.deleteNamespacedConfigMap({ namespace, name: CONFIG_MAP });
  t.deepEqual(await snapshots.next(), EMPTY);

  t.is(snapshots.pending, 0, 'one snapshot per change');
  t.true(source.healthy());
});

test.serial('the first snapshot holds the objects that exist, Secret values decoded', async (t) => {
  const { namespace, kubeConfig } = await tenant();
  await putConfigMap(namespace, { 'orders.json': '{}' });
  await putSecret(namespace, { 'orders.username': 'orders', 'orders.password': 'line1\nline2' });
  const { start } = watched(t, kubeConfig, namespace);

  t.deepEqual(await start(), {
    entries: { 'orders.json': '{}' },
    credentials: { 'orders.username': 'orders', 'orders.password': 'line1\nline2' },
  });
});

// ---------------------------------------------------------------------------------------------
// Start failures

test.serial('start rejects with HTTP 403 when RBAC does not let the data plane read', async (t) => {
  const { namespace, kubeConfig } = await tenant([]);
  const { source, start } = watched(t, kubeConfig, namespace);

  const error = await t.throwsAsync(start(), { instanceOf: KubeReadError });
  t.is(error.status, 403);
  t.regex(
    error.message,
    new RegExp(
      `^cannot read (ConfigMap "${CONFIG_MAP}"|Secret "${SECRET}") in namespace "${namespace}": HTTP 403 Forbidden: .*forbidden`,
    ),
  );
  t.false(source.healthy());
});

test.serial('start names the object the data plane may not read', async (t) => {
  const { namespace, kubeConfig } = await tenant([{ resource: 'configmaps', name: CONFIG_MAP }]);
  const { start } = watched(t, kubeConfig, namespace);

  const error = await t.throwsAsync(start(), { instanceOf: KubeReadError });
  t.true(
    error.message.startsWith(
      `cannot read Secret "${SECRET}" in namespace "${namespace}": HTTP 403 Forbidden: `,
    ),
    error.message,
  );
});

test.serial('start rejects when the API server does not answer within requestTimeoutMs', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen({ port: 0, host: LOOPBACK }, resolve));
  t.teardown(() => {
    sockets.forEach((socket) => socket.destroy());
    silent.close();
  });
  const { port } = silent.address() as { port: number };
  const kubeConfig = tokenKubeConfig(api(), 'unused', `https://${LOOPBACK}:${port}`);
  const { start } = watched(t, kubeConfig, 'anywhere', { requestTimeoutMs: 500 });

  const started = Date.now();
  const error = await t.throwsAsync(start(), { instanceOf: KubeReadError });
  t.regex(
    error.message,
    /^cannot read (ConfigMap|Secret) .* in namespace "anywhere": no answer within 500 ms$/,
  );
  t.is(error.status, undefined);
  t.true(Date.now() - started < 5000);
});

test.serial('start rejects when nothing listens at the API address', async (t) => {
  const kubeConfig = tokenKubeConfig(api(), 'unused', `https://${LOOPBACK}:${await freePort()}`);
  const { start } = watched(t, kubeConfig, 'anywhere');

  const error = await t.throwsAsync(start(), { instanceOf: KubeReadError });
  t.regex(error.message, /ECONNREFUSED/);
});

// ---------------------------------------------------------------------------------------------
// Losing the API server

test.serial(
  'after its connections are cut the source is unhealthy, then re-lists and follows changes',
  async (t) => {
    const cutter = await proxy(t);
    const { namespace, kubeConfig } = await tenant(BOTH, cutter.url);
    await putConfigMap(namespace, { 'a.json': '1' });
    const { source, snapshots, logs, start } = watched(t, kubeConfig, namespace);
    t.deepEqual((await start()).entries, { 'a.json': '1' });

    cutter.refuse(true);
    cutter.cut();
    await until(() => !source.healthy(), 'the source to turn unhealthy');
    await putConfigMap(namespace, { 'a.json': '2' }); // while the source cannot see it
    cutter.refuse(false);
    t.deepEqual(await snapshots.next(), { entries: { 'a.json': '2' }, credentials: {} }, 'from the re-list');
    await until(() => source.healthy(), 'the source to be healthy again');
    const lost = warnings(logs);
    t.deepEqual([...new Set(lost.map((line) => String(line['object'])))].sort(), [
      `ConfigMap ${namespace}/${CONFIG_MAP}`,
      `Secret ${namespace}/${SECRET}`,
    ]);
    for (const line of lost) {
      t.is(line['msg'], 'Kubernetes watch lost; re-listing after a pause');
      t.true(typeof line['reason'] === 'string' && line['reason'] !== '');
    }

    // A re-list that finds nothing new hands out nothing.
    const before = warnings(logs).length;
    cutter.cut();
    await until(() => warnings(logs).length > before, 'the cut to be noticed');
    await until(() => source.healthy(), 'the source to be healthy again');
    await putConfigMap(namespace, { 'a.json': '3' });
    t.deepEqual(await snapshots.next(), { entries: { 'a.json': '3' }, credentials: {} });
    t.is(snapshots.pending, 0);
  },
);

test.serial(
  'a watch that delivers nothing for stallTimeoutMs is dropped, and changes come through',
  async (t) => {
    const cutter = await proxy(t);
    const { namespace, kubeConfig } = await tenant(BOTH, cutter.url);
    const { snapshots, logs, start } = watched(t, kubeConfig, namespace, {
      stallTimeoutMs: 2000,
      requestTimeoutMs: 1000,
    });
    await start();

    const connections = cutter.accepted;
    cutter.freeze(); // the open connections stay open and deliver nothing
    await putSecret(namespace, { 'a.password': 'secret' });
    t.deepEqual(await snapshots.next(), { entries: {}, credentials: { 'a.password': 'secret' } });
    t.true(cutter.accepted > connections, 'the frozen connections were dropped for new ones');
    t.true(
      warnings(logs).some((line) => String(line['reason']).includes('delivered nothing for 2000 ms')),
      JSON.stringify(warnings(logs)),
    );
  },
);

test.serial('the source comes back after the API server restarts, and later changes arrive', async (t) => {
  const { namespace, kubeConfig } = await tenant();
  await putConfigMap(namespace, { 'a.json': '1' });
  const { source, snapshots, logs, start } = watched(t, kubeConfig, namespace);
  await start();

  const restarted = Date.now();
  await api().restartApiServer();
  t.log(`kube-apiserver restarted in ${Date.now() - restarted} ms`);
  await until(() => source.healthy(), 'the source to be healthy again');
  await putConfigMap(namespace, { 'a.json': '2' });
  t.deepEqual(await snapshots.next(), { entries: { 'a.json': '2' }, credentials: {} });
  t.is(snapshots.pending, 0);
  const lost = warnings(logs);
  t.true(lost.length > 0, 'the restart was noticed');
  t.log(`${lost.length} warnings, the first: ${String(lost[0]?.['reason'])}`);
});

// ---------------------------------------------------------------------------------------------
// Nothing left behind

const CHILD_SCRIPT = `
const { createKubeNamespaceSource } = await import(process.env.SOURCE_MODULE);
const { createLogger } = await import(process.env.LOGGER_MODULE);
const source = createKubeNamespaceSource({
  namespace: process.env.NAMESPACE,
  configMapName: ${JSON.stringify(CONFIG_MAP)},
  secretName: ${JSON.stringify(SECRET)},
  logger: createLogger('silent'),
});
try {
  const snapshot = await source.start(() => {});
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the watches are open by now
  await source.close();
  console.log(JSON.stringify(snapshot));
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
}
`;

/** Runs CHILD_SCRIPT with KUBECONFIG (the default loading); fails unless the process exits by itself. */
async function runChild(t: ExecutionContext, kubeConfig: KubeConfig, namespace: string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'cacheplane-kube-source-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  const moduleUrl = (path: string): string => new URL(path, import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
    env: {
      ...process.env,
      KUBECONFIG: kubeconfigPath,
      NAMESPACE: namespace,
      SOURCE_MODULE: moduleUrl('../../src/tenancy/kube-namespace-source.ts'),
      LOGGER_MODULE: moduleUrl('../../src/observability/logger.ts'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  t.is(
    code,
    0,
    `the process did not exit by itself within 15 s (something kept running):\n${stdout}${stderr}`,
  );
  return JSON.parse(stdout) as unknown;
}

test.serial('a process that started and closed a source exits by itself', async (t) => {
  const { namespace, kubeConfig } = await tenant();
  await putConfigMap(namespace, { 'a.json': '1' });

  t.deepEqual(await runChild(t, kubeConfig, namespace), { entries: { 'a.json': '1' }, credentials: {} });
});

test.serial('a process whose source failed to start exits by itself', async (t) => {
  const kubeConfig = tokenKubeConfig(api(), 'not-a-valid-token');

  const { error } = (await runChild(t, kubeConfig, 'anywhere')) as { error?: string };
  t.regex(
    error ?? '',
    /^cannot read (ConfigMap|Secret) "[a-z-]+" in namespace "anywhere": HTTP 401 Unauthorized$/,
  );
});
