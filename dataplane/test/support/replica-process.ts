// A data-plane replica as its own process (`node src/main.ts`), the way it runs in a pod: several
// of them on one Redis and one broker make a multi-replica deployment on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { signToken } from '../../src/auth/jwt-verifier.ts';
import { TEST_SECRET } from './test-data-plane.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

export interface ReplicaProcess {
  readonly name: string;
  readonly pid: number;
  readonly baseUrl: string;
  readonly grpcAddress: string;
  /** JSON log lines written so far. */
  logs(): Array<Record<string, unknown>>;
  token(namespaces: string[]): string;
  /** SIGSTOP: the process answers nothing, its connections stay open. */
  pause(): void;
  resume(): void;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export async function startReplica(name: string, env: Record<string, string>): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      SERVER_HOST: '127.0.0.1',
      SERVER_HTTP_PORT: '0',
      SERVER_GRPC_PORT: '0',
      SERVER_GRACEFUL_TIMEOUT: '2s',
      AUTH_JWT_SECRET: TEST_SECRET,
      BROKER_REPLICA_ID: name,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not start:\n${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        if (line.trim() === '') continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lines.push(parsed);
        if (typeof parsed['httpPort'] === 'number' && typeof parsed['grpcPort'] === 'number') {
          clearTimeout(timer);
          resolve({ http: parsed['httpPort'], grpc: parsed['grpcPort'] });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited with ${code}:\n${stderr}`));
    });
  });
  return {
    name,
    pid: child.pid as number,
    baseUrl: `http://127.0.0.1:${ports.http}`,
    grpcAddress: `127.0.0.1:${ports.grpc}`,
    logs: () => lines,
    token: (namespaces) => signToken(TEST_SECRET, { subject: 'test', namespaces, ttlSeconds: 3600 }),
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
