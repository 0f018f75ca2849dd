// Real Redis servers for tests: each one is a redis-server child process of the test process, on a
// free loopback port, with its own temp dir and no persistence. The test owns the pid, so it can
// pause (SIGSTOP), kill and restart a server; every server still running is killed when the test
// process exits, however it exits.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ChildProcessServer,
  findOnPath,
  freePort,
  isPortFree,
  killOnExit,
  LOOPBACK,
  runTool,
  startWithRetries,
  waitFor,
} from './child-process-server.ts';

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

const HOST = LOOPBACK;
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5000;
const LOG_LINES_KEPT = 50;
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

class RedisServer extends ChildProcessServer implements RedisServerHandle {
  readonly host = HOST;
  readonly port: number;
  readonly #args: string[];

  constructor(port: number, extraArgs: ExtraArgs) {
    super(mkdtempSync(join(tmpdir(), `redis-harness-${port}-`)), {
      name: `redis-server ${HOST}:${port}`,
      stopGraceMs: STOP_GRACE_MS,
      logLines: LOG_LINES_KEPT,
    });
    this.port = port;
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

  pause(): void {
    this.process.signal('SIGSTOP');
  }

  /** Spawns redis-server and resolves once it logs that it accepts connections. */
  async start(): Promise<void> {
    this.process.spawn(requireBinary('redis-server'), this.#args);
    killOnExit(this);
    await this.process.waitForLine(/ready to accept connections/i, START_TIMEOUT_MS);
  }
}

/** Starts a server, trying another port when the chosen one was taken meanwhile (parallel tests). */
async function startOnFreePort(pickPort: () => Promise<number>, extraArgs: ExtraArgs): Promise<RedisServer> {
  requireBinary('redis-server');
  return startWithRetries(
    START_ATTEMPTS,
    async () => new RedisServer(await pickPort(), extraArgs),
    (server) => server.start(),
  );
}

// ---------------------------------------------------------------------------------------------
// Binaries and ports

function requireBinary(name: 'redis-server' | 'redis-cli'): string {
  const path = findOnPath(name);
  if (path === undefined) {
    throw new Error(`${name} not found on PATH; the Redis integration tests need it: ${PROVISION_HINT}`);
  }
  return path;
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
  await runTool(requireBinary('redis-cli'), args, 30_000, 'redis-cli --cluster create');
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
