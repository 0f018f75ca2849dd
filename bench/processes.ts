// Child processes of the benchmark: every one is tracked, so that all of them are stopped when the
// benchmark ends, however it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

const STOP_GRACE_MS = 3000;
const LOG_LINES = 40;

const running = new Set<ChildProcess>();

function killAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

process.on('exit', killAllNow);
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => process.exit(code)); // 'exit' kills the children
}

export interface Spawned {
  readonly child: ChildProcess;
  /** Resolves with the exit code (null after a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** The last lines of stderr, for error messages. */
  stderrTail(): string;
}

/** Starts a child process on loopback-only work; stdin closed, stdout and stderr captured. */
export function start(command: string, args: string[], env: Record<string, string> = {}): Spawned {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  const stderr: string[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(...chunk.split('\n').filter(Boolean));
    stderr.splice(0, stderr.length - LOG_LINES);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  }).finally(() => running.delete(child));
  return { child, exited, stdout: () => stdout, stderrTail: () => stderr.join('\n') };
}

/** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
export async function stop(spawned: Spawned): Promise<void> {
  const { child } = spawned;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await spawned.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      child.kill('SIGKILL');
      return new Promise((resolve) => child.once('close', resolve));
    }),
  );
}

/** Runs a process to its end; rejects on a non-zero exit or when it outlives `timeoutMs`. */
export async function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<string> {
  const spawned = start(command, args, env);
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), timeoutMs);
  const code = await spawned.exited;
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`${command} exited with ${code ?? 'a signal'}:\n${spawned.stderrTail()}`);
  }
  return spawned.stdout();
}

/** Polls `check` until it is true; fails early when the process exits, or after `timeoutMs`. */
export async function waitUntil(
  spawned: Spawned,
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawned.child.exitCode !== null) break;
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out or exited while waiting for ${what}:\n${spawned.stderrTail()}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
