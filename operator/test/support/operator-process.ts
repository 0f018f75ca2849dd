// The operator as its own process (`node operator/src/main.ts`), the way it runs in a pod, for the
// leader-election and restart tests. Its JSON log lines are kept; SIGKILL and SIGTERM are the test's.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const running = new Set<ChildProcess>();
const killAll = (): void => running.forEach((child) => child.kill('SIGKILL'));
process.once('exit', killAll);
// A signal ends the process without 'exit' (ava stops a timed-out worker with SIGTERM).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

export interface OperatorProcess {
  readonly identity: string;
  readonly pid: number;
  readonly httpPort: number;
  logs(): Array<Record<string, unknown>>;
  /** Prometheus text of /metrics. */
  metrics(): Promise<string>;
  /** The value of an unlabelled metric, e.g. cacheplane_operator_leader. */
  metric(name: string): Promise<number | undefined>;
  kill(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  readonly exited: boolean;
}

export async function startOperatorProcess(
  identity: string,
  env: Record<string, string>,
): Promise<OperatorProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      OPERATOR_IDENTITY: identity,
      OPERATOR_HTTP_HOST: '127.0.0.1',
      OPERATOR_HTTP_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exit.then(() => running.delete(child));
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const httpPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`operator ${identity} did not start:\n${stderr}`)),
      30_000,
    );
    void exit.then((code) => reject(new Error(`operator ${identity} exited with ${code}:\n${stderr}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        if (line.trim() === '') continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (typeof parsed['httpPort'] === 'number') {
          clearTimeout(timer);
          resolve(parsed['httpPort']);
        }
      }
    });
  });
  let exited = false;
  void exit.then(() => (exited = true));
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return {
    identity,
    pid: child.pid ?? 0,
    httpPort,
    logs: () => lines,
    metrics,
    async metric(name: string): Promise<number | undefined> {
      const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(await metrics());
      return match === null ? undefined : Number(match[1]);
    },
    async kill(): Promise<void> {
      child.kill('SIGKILL');
      await exit;
    },
    async stop(): Promise<number | null> {
      if (!exited) child.kill('SIGTERM');
      return exit;
    },
    get exited() {
      return exited;
    },
  };
}
