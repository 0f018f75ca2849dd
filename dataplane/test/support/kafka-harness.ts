// A real Kafka for tests: one single-node KRaft server (broker and controller in one JVM) as a child
// process of the test process, on free loopback ports, with its log dirs in a temp dir. The jars
// come from scripts/provision-kafka.sh. The test owns the pid, so it can pause (SIGSTOP), kill and
// restart the server; a server still running is killed when the test process exits, however it
// exits.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

export interface KafkaHandle {
  /** `127.0.0.1:<port>` of the PLAINTEXT listener (one broker). */
  readonly brokers: string[];
  /** The pid of the current JVM (it changes on restart). */
  readonly pid: number;
  /** Graceful shutdown (SIGTERM, SIGKILL after 10 s), then removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, resolved once the process is gone. The temp dir stays, for restart(). */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  pause(): void;
  /** SIGCONT, after pause(). */
  resume(): void;
  /** Kills the server if it still runs, then starts it again on the same ports and data dir. */
  restart(): Promise<void>;
}

/** Must match KAFKA_VERSION in scripts/provision-kafka.sh. */
export const KAFKA_VERSION = '3.9.2';

const HOST = '127.0.0.1';
/** The JVM alone takes a few seconds; a loaded machine running tests in parallel takes longer. */
const START_TIMEOUT_MS = 90_000;
const FORMAT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;
const LOG_LINES_KEPT = 80;
const PROVISION_HINT = 'run scripts/provision-kafka.sh (downloads Kafka from Maven Central with Maven)';

const execFileAsync = promisify(execFile);

export async function startKafka(): Promise<KafkaHandle> {
  const lib = requireKafkaLib();
  let lastError: unknown;
  // Another test may take a port between freePort() and the JVM binding it: try new ports then.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt += 1) {
    const server = new KafkaServer(lib, await freePort(), await freePort());
    try {
      await server.format();
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
// One server process

class KafkaServer implements KafkaHandle {
  readonly brokers: string[];
  readonly dir: string;
  readonly #lib: string;
  readonly #port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];

  constructor(lib: string, port: number, controllerPort: number) {
    this.#lib = lib;
    this.#port = port;
    this.brokers = [`${HOST}:${port}`];
    this.dir = mkdtempSync(join(tmpdir(), `kafka-harness-${port}-`));
    writeFileSync(this.#propertiesFile, serverProperties(port, controllerPort, join(this.dir, 'data')));
    writeFileSync(this.#log4jFile, LOG4J_PROPERTIES);
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error(`kafka ${this.brokers[0]} is not running`);
    return pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get #propertiesFile(): string {
    return join(this.dir, 'server.properties');
  }

  get #log4jFile(): string {
    return join(this.dir, 'log4j.properties');
  }

  /** Writes the KRaft metadata (cluster id, node id) into the log dir; a server needs it once. */
  async format(): Promise<void> {
    const args = [
      ...this.#jvmArgs(),
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      clusterId(),
      '--config',
      this.#propertiesFile,
    ];
    try {
      await execFileAsync('java', args, { timeout: FORMAT_TIMEOUT_MS });
    } catch (error) {
      const output = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `kafka-storage format failed: ${output.message}\n${output.stdout ?? ''}${output.stderr ?? ''}`,
        { cause: error },
      );
    }
  }

  /** Spawns the JVM and resolves once the broker accepts connections and answers an admin client. */
  async start(): Promise<void> {
    const child = spawn('java', [...this.#jvmArgs(), 'kafka.Kafka', this.#propertiesFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#log = [];
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    live.add(this);
    registerExitCleanup();
    // The test process must be free to exit with the server still running; the exit hook kills it.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      // Keep draining the output for the whole life of the server: a full pipe would block it.
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) =>
        chunk
          .split('\n')
          .filter(Boolean)
          .forEach((l) => this.#keep(l)),
      );
      (stream as { unref?: () => void } | null)?.unref?.();
    }

    let exitedEarly: Error | undefined;
    child.once('error', (error) => (exitedEarly = new Error(`cannot run java: ${error.message}`)));
    child.once('exit', (code, signal) => {
      exitedEarly = new Error(
        `kafka ${this.brokers[0]} exited during start (code ${code}, signal ${signal})`,
      );
    });
    try {
      await waitFor(
        async () => {
          if (exitedEarly) throw exitedEarly;
          return (await acceptsConnections(this.#port)) && (await answersAdmin(this.brokers));
        },
        START_TIMEOUT_MS,
        `kafka ${this.brokers[0]} to answer`,
        () => exitedEarly,
      );
    } catch (error) {
      if (this.running) child.kill('SIGKILL');
      await this.#exited;
      throw new Error(`${(error as Error).message}\n${this.#log.join('\n')}`, { cause: error });
    }
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.#signal('SIGCONT');
      this.#signal('SIGTERM');
      const timer = setTimeout(() => this.#signal('SIGKILL'), STOP_GRACE_MS);
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

  #jvmArgs(): string[] {
    return [
      '-Xmx512m',
      '-Xms128m',
      // Start-up time matters more than throughput here: C1 only, one cheap collector.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${this.#log4jFile}`,
      '-cp',
      join(this.#lib, '*'),
    ];
  }

  #keep(line: string): void {
    this.#log.push(line);
    if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }
}

/** Single node, KRaft combined mode, no replication: topics and groups work from the first second. */
function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    // The default 50 partitions of __consumer_offsets make the first group join take seconds.
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'group.initial.rebalance.delay.ms=0',
    // Lets clients use short session timeouts: a rejoin after a restart waits for the old session.
    'group.min.session.timeout.ms=1000',
    'log.retention.hours=1',
    // After a SIGKILL the controller refuses the broker's new registration (DUPLICATE_BROKER_
    // REGISTRATION) until the old one's session expires: 9 s by default, which doubled restart().
    'broker.session.timeout.ms=2000',
    'broker.heartbeat.interval.ms=500',
  ].join('\n')}\n`;
}

/** Warnings and errors only, on stderr (kept for the error message when a start fails). */
const LOG4J_PROPERTIES = `${[
  'log4j.rootLogger=WARN, stderr',
  'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stderr.Target=System.err',
  'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n',
].join('\n')}\n`;

/** What `kafka-storage random-uuid` prints: 16 random bytes, base64url, not starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// ---------------------------------------------------------------------------------------------
// Readiness

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.setTimeout(1000);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** The listener is bound before the broker has caught up with its metadata: ask it something. */
async function answersAdmin(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'kafka-harness',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  fatal: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const failure = fatal();
    if (failure) throw failure;
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw fatal() ?? new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Cleanup on exit

const live = new Set<KafkaServer>();
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
// Jars and ports

function requireKafkaLib(): string {
  const cache = process.env.CACHEPLANE_CACHE || join(homedir(), '.cache', 'cacheplane');
  const home = join(cache, `kafka-${KAFKA_VERSION}`);
  const lib = join(home, 'lib');
  // The script writes `.complete` last: without it the download was interrupted.
  if (!existsSync(join(home, '.complete')) || !existsSync(join(lib, `kafka_2.13-${KAFKA_VERSION}.jar`))) {
    throw new Error(`Kafka ${KAFKA_VERSION} jars not found in ${lib}; ${PROVISION_HINT}`);
  }
  return lib;
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
