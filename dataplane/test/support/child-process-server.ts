// What the real-server test harnesses (Redis, Kafka, RabbitMQ) share: a server as a child process
// of the test process, with its output drained and its last lines kept for error messages, started
// on free loopback ports (again on new ports if another test took one meanwhile), stopped with
// SIGTERM then SIGKILL, and killed when the test process exits, however it exits.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export const LOOPBACK = '127.0.0.1';

const execFileAsync = promisify(execFile);

export interface ServerProcessOptions {
  /** Names the server in error messages, e.g. `redis-server 127.0.0.1:6379`. */
  readonly name: string;
  /** How long stop() waits after SIGTERM before it sends SIGKILL. */
  readonly stopGraceMs: number;
  /** How many lines of output to keep for the error message when a start fails. */
  readonly logLines: number;
  /**
   * Spawn the server in its own process group and signal the whole group, for servers that are
   * a script running the real process in the background.
   */
  readonly processGroup?: boolean;
  /** Turns an output line into the line kept ('' drops it). */
  readonly cleanLine?: (line: string) => string;
}

/** One server child process, restartable: spawn() again once it has exited. */
export class ServerProcess {
  readonly #options: ServerProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #startFailure: Error | undefined;
  #log: string[] = [];
  readonly #lineListeners = new Set<(line: string) => void>();

  constructor(options: ServerProcessOptions) {
    this.#options = options;
  }

  get name(): string {
    return this.#options.name;
  }

  /** The pid of the current process (the process group id with `processGroup`). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves once the current process has exited. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /**
   * Spawns the server with its output piped and drained for its whole life (a full pipe would
   * block it). The child does not keep the test process alive: the exit hook kills it.
   */
  spawn(command: string, args: string[], options: Omit<SpawnOptions, 'stdio' | 'detached'> = {}): void {
    const child = spawn(command, args, {
      ...options,
      detached: this.#options.processGroup === true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#log = [];
    this.#startFailure = undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      // A child that could not be spawned at all may never emit 'exit'.
      child.once('error', () => {
        if (child.pid === undefined) resolve();
      });
    });
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const raw of chunk.split('\n')) {
          const line = this.#options.cleanLine ? this.#options.cleanLine(raw) : raw;
          if (line !== '') this.#keep(line);
        }
      });
      (stream as { unref?: () => void } | null)?.unref?.();
    }
    const failed = (error: Error): void => {
      this.#startFailure ??= error;
      for (const listener of this.#lineListeners) listener('');
    };
    child.once('error', (error) => failed(new Error(`cannot run ${basename(command)}: ${error.message}`)));
    child.once('exit', (code, signal) => {
      failed(new Error(`${this.#options.name} exited during start (code ${code}, signal ${signal})`));
    });
  }

  /**
   * Resolves once the server prints a line matching `pattern`. Fails when the process exits or
   * the timeout passes first; then kills it and adds its last output lines to the error.
   */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<void> {
    let listener: ((line: string) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${this.#options.name} did not start within ${timeoutMs} ms`));
        }, timeoutMs);
        listener = (line) => {
          if (this.#startFailure) reject(this.#startFailure);
          else if (pattern.test(line)) resolve();
        };
        this.#lineListeners.add(listener);
        if (this.#startFailure) reject(this.#startFailure);
      });
    } catch (error) {
      return this.#failStart(error);
    } finally {
      clearTimeout(timer);
      if (listener) this.#lineListeners.delete(listener);
    }
  }

  /**
   * Polls `check` until it returns true. Fails at once when the process exits, or when the
   * timeout passes; then kills it and adds its last output lines to the error.
   */
  async waitUntil(
    check: () => Promise<boolean>,
    timeoutMs: number,
    what: string,
    intervalMs?: number,
  ): Promise<void> {
    try {
      await waitFor(check, timeoutMs, what, { intervalMs, fatal: () => this.#startFailure });
    } catch (error) {
      return this.#failStart(error);
    }
  }

  /** SIGCONT (in case it is paused), SIGTERM, and SIGKILL if it has not exited after the grace time. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), this.#options.stopGraceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** SIGKILL, resolved once the process is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.#exited;
  }

  /** Sends `signal` to the process (or its group) if it still runs. */
  signal(signal: NodeJS.Signals): void {
    const child = this.#child;
    if (child?.pid === undefined || !this.running) return;
    if (!this.#options.processGroup) {
      child.kill(signal);
      return;
    }
    try {
      process.kill(-child.pid, signal);
    } catch {
      // the group is already gone
    }
  }

  #keep(line: string): void {
    this.#log.push(line);
    if (this.#log.length > this.#options.logLines) this.#log.shift();
    for (const listener of this.#lineListeners) listener(line);
  }

  async #failStart(error: unknown): Promise<never> {
    await this.kill();
    throw new Error(`${(error as Error).message}\n${this.#log.join('\n')}`, { cause: error });
  }
}

/**
 * The handle side of a server process with its own temp dir: stop() stops it and removes the dir,
 * kill() leaves the dir for restart(), killNow() is for the exit hook. Subclasses spawn it in start()
 * and pause it their way (SIGSTOP, with `process.signal`).
 */
export abstract class ChildProcessServer implements KillableNow {
  readonly dir: string;
  protected readonly process: ServerProcess;

  constructor(dir: string, options: ServerProcessOptions) {
    this.dir = dir;
    this.process = new ServerProcess(options);
  }

  /** Spawns the server (again) and resolves once it is ready. */
  abstract start(): Promise<void>;

  /** The pid of the current process (it changes on restart). */
  get pid(): number {
    const pid = this.process.pid;
    if (pid === undefined) throw new Error(`${this.process.name} is not running`);
    return pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  async stop(): Promise<void> {
    await this.process.stop();
    this.stopHelpers();
    forgetOnExit(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    await this.process.kill();
  }

  resume(): void {
    this.process.signal('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Synchronous, for the exit hook. */
  killNow(): void {
    this.process.signal('SIGKILL');
    this.stopHelpers();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kills helper processes the server needs (none by default), on stop() and killNow(). */
  protected stopHelpers(): void {}
}

/**
 * Creates a server on ports picked by `create` and starts it; when the start fails (another test
 * may take a port between picking and binding it), stops it and tries again on new ports.
 */
export async function startWithRetries<T extends { stop(): Promise<void> }>(
  attempts: number,
  create: () => Promise<T>,
  start: (server: T) => Promise<void>,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const server = await create();
    try {
      await start(server);
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

/** A server that can be killed synchronously, from the exit hook. */
export interface KillableNow {
  killNow(): void;
}

const live = new Set<KillableNow>();
let exitCleanupRegistered = false;

/** Has `server.killNow()` called if the test process exits while it is tracked. */
export function killOnExit(server: KillableNow): void {
  live.add(server);
  registerExitCleanup();
}

export function forgetOnExit(server: KillableNow): void {
  live.delete(server);
}

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
// Binaries and tools

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in a directory on PATH. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Runs a command to completion; a failure's message includes its output. */
export async function runTool(
  command: string,
  args: string[],
  timeoutMs: number,
  description: string,
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: timeoutMs });
    return stdout;
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${description} failed: ${output.message}\n${output.stdout ?? ''}${output.stderr ?? ''}`,
      {
        cause: error,
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Ports and readiness

/** A port that was free on the loopback address a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}

export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** True when a TCP connection to the loopback port succeeds within a second. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: LOOPBACK, port });
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

export interface WaitOptions {
  /** Pause between checks; 100 ms by default. */
  readonly intervalMs?: number | undefined;
  /** An error here ends the wait at once (e.g. the server exited). */
  readonly fatal?: () => Error | undefined;
}

/** Polls `check` until it returns true; a check that throws counts as false. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  { intervalMs = 100, fatal = () => undefined }: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const failure = fatal();
    if (failure) throw failure;
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw fatal() ?? new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}
