// A real Kafka for tests: one single-node KRaft server (broker and controller in one JVM) as a child
// process of the test process, on free loopback ports, with its log dirs in a temp dir. The jars
// come from scripts/provision-kafka.sh. The test owns the pid, so it can pause (SIGSTOP), kill and
// restart the server; a server still running is killed when the test process exits, however it
// exits.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  acceptsConnections,
  ChildProcessServer,
  freePort,
  killOnExit,
  LOOPBACK,
  runTool,
  startWithRetries,
} from './child-process-server.ts';

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

const HOST = LOOPBACK;
/** The JVM alone takes a few seconds; a loaded machine running tests in parallel takes longer. */
const START_TIMEOUT_MS = 90_000;
const FORMAT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;
const LOG_LINES_KEPT = 80;
const PROVISION_HINT = 'run scripts/provision-kafka.sh (downloads Kafka from Maven Central with Maven)';

export async function startKafka(): Promise<KafkaHandle> {
  const lib = requireKafkaLib();
  return startWithRetries(
    START_ATTEMPTS,
    async () => new KafkaServer(lib, await freePort(), await freePort()),
    async (server) => {
      await server.format();
      await server.start();
    },
  );
}

// ---------------------------------------------------------------------------------------------
// One server process

class KafkaServer extends ChildProcessServer implements KafkaHandle {
  readonly brokers: string[];
  readonly #lib: string;
  readonly #port: number;

  constructor(lib: string, port: number, controllerPort: number) {
    super(mkdtempSync(join(tmpdir(), `kafka-harness-${port}-`)), {
      name: `kafka ${HOST}:${port}`,
      stopGraceMs: STOP_GRACE_MS,
      logLines: LOG_LINES_KEPT,
    });
    this.#lib = lib;
    this.#port = port;
    this.brokers = [`${HOST}:${port}`];
    writeFileSync(this.#propertiesFile, serverProperties(port, controllerPort, join(this.dir, 'data')));
    writeFileSync(this.#log4jFile, LOG4J_PROPERTIES);
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
    await runTool('java', args, FORMAT_TIMEOUT_MS, 'kafka-storage format');
  }

  pause(): void {
    this.process.signal('SIGSTOP');
  }

  /** Spawns the JVM and resolves once the broker accepts connections and answers an admin client. */
  async start(): Promise<void> {
    this.process.spawn('java', [...this.#jvmArgs(), 'kafka.Kafka', this.#propertiesFile]);
    killOnExit(this);
    await this.process.waitUntil(
      async () => (await acceptsConnections(this.#port)) && (await answersAdmin(this.brokers)),
      START_TIMEOUT_MS,
      `kafka ${this.brokers[0]} to answer`,
    );
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

// ---------------------------------------------------------------------------------------------
// Jars

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
