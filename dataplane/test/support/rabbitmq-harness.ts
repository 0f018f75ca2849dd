// Real RabbitMQ nodes for tests: each one is a rabbitmq-server child process of the test process,
// with its own node name, free loopback ports (AMQP, Erlang distribution, epmd), its own temp dir
// (data, logs, config, Erlang cookie) and no plugins. It never touches a system node: its own epmd
// on its own port means node names and ports cannot clash with another node, or with tests running
// in parallel. The test owns the process group, so it can pause, kill and restart the node; every
// node still running is killed when the test process exits, however it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import {
  acceptsConnections,
  ChildProcessServer,
  distinctFreePorts,
  findOnPath,
  isExecutable,
  isPortFree,
  killOnExit,
  LOOPBACK,
  startWithRetries,
  waitFor,
} from './child-process-server.ts';

export interface RabbitMqHandle {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** `cacheplane-<random>@localhost` */
  readonly nodeName: string;
  /** How long the last (re)start took until an AMQP connection succeeded, in ms. */
  readonly startMs: number;
  /** Graceful shutdown (SIGTERM, SIGKILL after 15 s), stops its epmd, then removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL to the whole process group, resolved once the node's ports are free again. */
  kill(): Promise<void>;
  /**
   * SIGSTOP to the process group: the node keeps its sockets open but answers nothing. Resolves once
   * every thread has actually stopped: signals reach threads asynchronously, and a scheduler thread
   * still running for a millisecond can route a message and confirm it.
   */
  pause(): Promise<void>;
  /** SIGCONT, after pause(). */
  resume(): void;
  /** Kills the node if it still runs, then starts it again with the same name, ports and data. */
  restart(): Promise<void>;
}

const HOST = LOOPBACK;
/** A cold start takes ~4 s on a developer machine; loaded CI machines are much slower. */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const PORTS_FREE_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;
const LOG_LINES_KEPT = 80;
/** How often start() tries an AMQP connection. */
const START_POLL_MS = 200;
const PROVISION_HINT = 'run scripts/provision-rabbitmq.sh (installs Debian rabbitmq-server)';
/**
 * Debian's /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq user and logs to
 * /var/log; the real script (which takes the RABBITMQ_* environment) lives here.
 */
const DEBIAN_SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export async function startRabbitMq(): Promise<RabbitMqHandle> {
  const binaries = { server: serverScript(), epmd: requireOnPath('epmd') };
  return startWithRetries(
    START_ATTEMPTS,
    async () => {
      const [amqp = 0, dist = 0, epmd = 0] = await distinctFreePorts(3);
      return new RabbitMqNode(binaries, { amqp, dist, epmd });
    },
    (node) => node.start(),
  );
}

// ---------------------------------------------------------------------------------------------
// One node: an epmd process and a rabbitmq-server process group

interface Binaries {
  server: string;
  epmd: string;
}

interface Ports {
  amqp: number;
  /** Erlang distribution: the default (AMQP port + 20000) may not exist for high free ports. */
  dist: number;
  /** This node's own epmd. */
  epmd: number;
}

class RabbitMqNode extends ChildProcessServer implements RabbitMqHandle {
  readonly port: number;
  readonly nodeName: string;
  readonly #distPort: number;
  readonly #epmdPort: number;
  readonly #binaries: Binaries;
  #epmd: ChildProcess | undefined;
  #startMs = 0;

  constructor(binaries: Binaries, ports: Ports) {
    const nodeName = `cacheplane-${randomBytes(6).toString('hex')}@localhost`;
    super(mkdtempSync(join(tmpdir(), `rabbitmq-harness-${ports.amqp}-`)), {
      name: `rabbitmq-server ${nodeName}`,
      stopGraceMs: STOP_TIMEOUT_MS,
      logLines: LOG_LINES_KEPT,
      // Its own process group: the script runs erl in the background and waits, so signals must
      // reach the whole group (beam.smp included), not just the shell.
      processGroup: true,
      // eslint-disable-next-line no-control-regex -- the console log is coloured
      cleanLine: (line) => line.replace(/\u001b\[[0-9;]*m/g, '').trimEnd(),
    });
    this.nodeName = nodeName;
    this.#binaries = binaries;
    this.port = ports.amqp;
    this.#distPort = ports.dist;
    this.#epmdPort = ports.epmd;
    this.#writeFiles();
  }

  get url(): string {
    return `amqp://guest:guest@${HOST}:${this.port}`;
  }

  get startMs(): number {
    return this.#startMs;
  }

  async start(): Promise<void> {
    const began = Date.now();
    killOnExit(this);
    await this.#startEpmd();
    this.process.spawn(this.#binaries.server, [], { cwd: this.dir, env: this.#environment() });
    await this.process.waitUntil(
      () => canConnect(this.url),
      START_TIMEOUT_MS,
      `an AMQP connection to ${this.url}`,
      START_POLL_MS,
    );
    this.#startMs = Date.now() - began;
  }

  /** SIGKILL to the whole process group, resolved once the node's ports are free again. */
  override async kill(): Promise<void> {
    await super.kill();
    // The shell's exit does not prove beam.smp is gone: wait until it let go of its ports.
    await waitFor(
      async () => (await isPortFree(this.port)) && (await isPortFree(this.#distPort)),
      PORTS_FREE_TIMEOUT_MS,
      `ports ${this.port} and ${this.#distPort} to be released`,
      { intervalMs: 200 },
    );
  }

  /** SIGSTOP to the process group, resolved once every thread has actually stopped. */
  async pause(): Promise<void> {
    this.process.signal('SIGSTOP');
    const pgid = this.process.pid;
    if (pgid === undefined) return;
    await waitFor(() => Promise.resolve(groupStopped(pgid)), 5000, `process group ${pgid} to stop`, {
      intervalMs: 10,
    });
  }

  /** Our epmd. */
  protected override stopHelpers(): void {
    this.#stopEpmd();
  }

  #writeFiles(): void {
    const etc = join(this.dir, 'etc');
    for (const sub of ['mnesia', 'log', 'etc']) mkdirSync(join(this.dir, sub));
    // Erlang distribution refuses to start without a cookie it alone can read.
    writeFileSync(join(this.dir, '.erlang.cookie'), randomBytes(16).toString('hex').toUpperCase(), {
      mode: 0o400,
    });
    writeFileSync(join(etc, 'enabled_plugins'), '[].\n');
    // Empty on purpose: /etc/rabbitmq/rabbitmq-env.conf must not leak into test nodes.
    writeFileSync(join(etc, 'rabbitmq-env.conf'), '');
    writeFileSync(
      join(etc, 'rabbitmq.conf'),
      [
        'log.console = true',
        'log.console.level = info',
        // Small temp filesystems must not make the node block publishers (default limit 50 MB).
        'disk_free_limit.absolute = 1MB',
        '',
      ].join('\n'),
    );
  }

  #environment(): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.startsWith('RABBITMQ_') && !name.startsWith('ERL_') && name !== 'NOTIFY_SOCKET',
      ),
    );
    const etc = join(this.dir, 'etc');
    return {
      ...inherited,
      // Erlang reads the cookie from $HOME/.erlang.cookie.
      HOME: this.dir,
      ERL_EPMD_PORT: String(this.#epmdPort),
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: HOST,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_DIST_PORT: String(this.#distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(etc, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(etc, 'advanced.config'),
      RABBITMQ_CONF_ENV_FILE: join(etc, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(etc, 'enabled_plugins'),
    };
  }

  /**
   * Our own epmd, in the foreground, before the node: erl would otherwise start one itself with
   * -daemon, which leaves the process group and would outlive the test.
   */
  async #startEpmd(): Promise<void> {
    if (this.#epmd !== undefined && this.#epmd.exitCode === null && this.#epmd.signalCode === null) return;
    const epmd = spawn(this.#binaries.epmd, ['-port', String(this.#epmdPort), '-address', HOST], {
      stdio: 'ignore',
    });
    this.#epmd = epmd;
    epmd.unref();
    const failed = new Promise<never>((_, reject) => {
      epmd.once('error', (error) => reject(new Error(`cannot run epmd: ${error.message}`)));
      epmd.once('exit', (code) => reject(new Error(`epmd on port ${this.#epmdPort} exited (code ${code})`)));
    });
    failed.catch(() => {});
    await Promise.race([
      waitFor(() => acceptsConnections(this.#epmdPort), 5000, `epmd on port ${this.#epmdPort}`, {
        intervalMs: 200,
      }),
      failed,
    ]);
  }

  #stopEpmd(): void {
    if (this.#epmd?.exitCode === null && this.#epmd.signalCode === null) this.#epmd.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Binaries, ports, readiness

function serverScript(): string {
  if (isExecutable(DEBIAN_SERVER_SCRIPT)) return DEBIAN_SERVER_SCRIPT;
  return requireOnPath('rabbitmq-server');
}

function requireOnPath(name: string): string {
  const path = findOnPath(name);
  if (path === undefined) {
    throw new Error(`${name} not found; the RabbitMQ integration tests need it: ${PROVISION_HINT}`);
  }
  return path;
}

async function canConnect(url: string): Promise<boolean> {
  const model = await connect(url, { timeout: 2000 });
  await model.close();
  return true;
}

/**
 * True once no thread of any process in the group can run (Linux /proc: state T, or Z once gone).
 * Where /proc is missing, trusts the signal.
 */
function groupStopped(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) {
    const stat = readStat(`/proc/${pid}/stat`);
    // Fields after "(comm) ": state, ppid, pgrp, ...
    if (stat === undefined || Number(stat[2]) !== pgid) continue;
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const thread of threads) {
      const state = readStat(`/proc/${pid}/task/${thread}/stat`)?.[0];
      if (state !== undefined && state !== 'T' && state !== 'Z' && state !== 'X') return false;
    }
  }
  return true;
}

function readStat(path: string): string[] | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(text.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined;
  }
}
