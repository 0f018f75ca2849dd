// Real Redis servers for tests: each one is a redis-server child process of the test process, on a
// free loopback port, with its own temp dir and no persistence. The test owns the pid, so it can
// pause (SIGSTOP), kill and restart a server; every server still running is killed when the test
// process exits, however it exits.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export interface RedisServerHandle {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>` */
  readonly address: string;
  /** The pid of the current process (it changes on restart). */
  readonly pid: number;
  /** Graceful shutdown (SIGTERM, SIGKILL after 5 s), then removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, resolved once the process is gone. The temp dir stays, for restart(). */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  pause(): void;
  /** SIGCONT, after pause(). */
  resume(): void;
  /** Kills the server if it still runs, then starts it again on the same port and dir. */
  restart(): Promise<void>;
}

export interface RedisClusterHandle {
  /** 3 primaries and 3 replicas; which is which is up to `redis-cli --cluster create`. */
  readonly nodes: RedisServerHandle[];
  /** `host:port` of every node. */
  readonly addresses: string[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;
const CLUSTER_CONVERGE_TIMEOUT_MS = 30_000;
const CLUSTER_NODES = 6;
/** Cluster bus port = port + 10000 must be a valid port too. */
const MAX_CLUSTER_PORT = 55_000;
const START_ATTEMPTS = 4;
const PROVISION_HINT = 'run scripts/provision.sh (installs Debian redis-server and redis-tools)';

const execFileAsync = promisify(execFile);

export async function startRedisStandalone(): Promise<RedisServerHandle> {
  return startOnFreePort(freePort, []);
}

export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  try {
    for (let i = 0; i < CLUSTER_NODES; i += 1) {
      nodes.push(await startOnFreePort(freeClusterPort, (dir) => clusterArgs(dir)));
    }
    const addresses = nodes.map((node) => node.address);
    await createCluster(addresses);
    await waitFor(
      () => clusterConverged(addresses),
      CLUSTER_CONVERGE_TIMEOUT_MS,
      'cluster state ok on every node',
    );
    return {
      nodes,
      addresses,
      stop: async () => {
        await Promise.all(nodes.map((node) => node.stop()));
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
}

/** Runs `redis-cli -h 127.0.0.1 -p <port> <args...>` and returns its raw output. */
export async function redisCli(address: string, ...args: string[]): Promise<string> {
  const [host = HOST, port = ''] = address.split(':');
  const { stdout } = await execFileAsync(requireBinary('redis-cli'), ['-h', host, '-p', port, ...args], {
    timeout: 5000,
  });
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// One server process

type ExtraArgs = string[] | ((dir: string) => string[]);

class RedisServer implements RedisServerHandle {
  readonly host = HOST;
  readonly port: number;
  readonly dir: string;
  readonly #args: string[];
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];

  constructor(port: number, extraArgs: ExtraArgs) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), `redis-harness-${port}-`));
    const extra = typeof extraArgs === 'function' ? extraArgs(this.dir) : extraArgs;
    this.#args = [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      // Do not wait for replicas to catch up on SIGTERM: stop() should be quick.
      '--shutdown-timeout',
      '0',
      ...extra,
    ];
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get address(): string {
    return `${HOST}:${this.port}`;
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`redis-server ${this.address} is not running`);
    return pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Spawns redis-server and resolves once it logs that it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(requireBinary('redis-server'), this.#args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#log = [];
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    live.add(this);
    registerExitCleanup();
    // The test process must be free to exit with servers still running; the exit hook kills them.
    child.unref();
    await new Promise<void>((resolve, reject) => {
      let starting = true;
      const timer = setTimeout(() => {
        fail(new Error(`redis-server ${this.address} did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onLine = (line: string): void => {
        this.#log.push(line);
        if (this.#log.length > 50) this.#log.shift();
        if (starting && /ready to accept connections/i.test(line)) {
          starting = false;
          clearTimeout(timer);
          resolve();
        }
      };
      const fail = (error: Error): void => {
        if (!starting) return;
        starting = false;
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${error.message}\n${this.#log.join('\n')}`));
      };
      for (const stream of [child.stdout, child.stderr]) {
        // Keep draining the output for the whole life of the server: a full pipe would block it.
        stream?.setEncoding('utf8');
        stream?.on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(onLine));
        (stream as { unref?: () => void } | null)?.unref?.();
      }
      child.once('error', (error) => fail(new Error(`cannot run redis-server: ${error.message}`)));
      child.once('exit', (code, signal) => {
        fail(new Error(`redis-server ${this.address} exited during start (code ${code}, signal ${signal})`));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.#signal('SIGCONT');
      this.#signal('SIGTERM');
      const timer = setTimeout(() => this.#signal('SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    if (this.running) this.#signal('SIGKILL');
    await this.#exited;
  }

  pause(): void {
    this.#signal('SIGSTOP');
  }

  resume(): void {
    this.#signal('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Synchronous, for the exit hook. */
  killNow(): void {
    if (this.running) this.#signal('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }
}

/** Starts a server, trying another port when the chosen one was taken meanwhile (parallel tests). */
async function startOnFreePort(pickPort: () => Promise<number>, extraArgs: ExtraArgs): Promise<RedisServer> {
  requireBinary('redis-server');
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt += 1) {
    const server = new RedisServer(await pickPort(), extraArgs);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------
// Cleanup on exit

const live = new Set<RedisServer>();
let exitCleanupRegistered = false;

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  const killAll = (): void => {
    for (const server of live) server.killNow();
    live.clear();
  };
  process.on('exit', killAll);
  // A signal ends the process without 'exit' (ava stops a timed-out worker with SIGTERM):
  // clean up, then let the signal do what it would have done.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Binaries and ports

function requireBinary(name: 'redis-server' | 'redis-cli'): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} not found on PATH; the Redis integration tests need it: ${PROVISION_HINT}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await freePort();
    if (port <= MAX_CLUSTER_PORT && (await isPortFree(port + 10_000))) return port;
  }
  throw new Error(`no free port <= ${MAX_CLUSTER_PORT} with a free cluster bus port`);
}

// ---------------------------------------------------------------------------------------------
// Cluster

function clusterArgs(dir: string): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, 'nodes.conf'),
    '--cluster-node-timeout',
    '2000',
  ];
}

async function createCluster(addresses: string[]): Promise<void> {
  const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'];
  try {
    await execFileAsync(requireBinary('redis-cli'), args, { timeout: 30_000 });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `redis-cli --cluster create failed: ${output.message}\n${output.stdout ?? ''}${output.stderr ?? ''}`,
      { cause: error },
    );
  }
}

/**
 * True when every node reports cluster_state:ok with all slots assigned, knows all nodes, and
 * every node describes the same topology (same primaries, replicas and slot ranges).
 */
async function clusterConverged(addresses: string[]): Promise<boolean> {
  const views = await Promise.all(
    addresses.map(async (address) => {
      const info = await redisCli(address, 'CLUSTER', 'INFO');
      const ok =
        /cluster_state:ok/.test(info) &&
        /cluster_slots_assigned:16384/.test(info) &&
        new RegExp(`cluster_known_nodes:${addresses.length}\\b`).test(info);
      return ok ? topology(await redisCli(address, 'CLUSTER', 'NODES')) : undefined;
    }),
  );
  const first = views[0];
  return first !== undefined && views.every((view) => view === first);
}

/** A node's CLUSTER NODES output reduced to what all nodes must agree on; undefined if in flux. */
function topology(clusterNodes: string): string | undefined {
  const lines = clusterNodes.trim().split('\n');
  const described: string[] = [];
  for (const line of lines) {
    const [id, address, flags = '', primaryId, , , , , ...slots] = line.trim().split(' ');
    if (/fail|handshake|noaddr/.test(flags)) return undefined;
    const role = flags.includes('master') ? 'primary' : 'replica';
    described.push([id, address?.split('@')[0], role, primaryId, ...slots].join(' '));
  }
  return described.sort().join('\n');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}
