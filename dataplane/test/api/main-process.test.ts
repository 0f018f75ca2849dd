// `node src/main.ts` as users run it: the embedded default with its printed token, configuration
// errors, and shutdown on SIGTERM (in-flight draining itself is tested in test/grpc/server.test.ts).
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

interface Started {
  child: ChildProcess;
  httpPort: number;
  stdout: () => string;
  stderr: () => string;
}

async function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      SERVER_HOST: '127.0.0.1',
      SERVER_HTTP_PORT: '0',
      SERVER_GRPC_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const httpPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main.ts did not start:\n${stdout}\n${stderr}`)), 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"httpPort":(\d+)/.exec(stdout);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`main.ts exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return { child, httpPort, stdout: () => stdout, stderr: () => stderr };
}

test('the embedded default says so and prints a token that works for the default namespace', async (t) => {
  const main = await startMain({});
  try {
    t.regex(main.stdout(), /embedded mode: no REDIS_ADDRESSES/);
    const tokenPattern = /Development token[^\n]*\n\n\s+(\S+)\n/;
    for (let waited = 0; !tokenPattern.test(main.stderr()) && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const token = tokenPattern.exec(main.stderr())?.[1];
    t.truthy(token, main.stderr());
    const url = `http://127.0.0.1:${main.httpPort}/api/v1/cache/default/greeting`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    t.is(
      (await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ value: 'hello' }) })).status,
      200,
    );
    const read = (await (await fetch(url, { headers })).json()) as { value: string; source: string };
    t.deepEqual([read.value, read.source], ['hello', 'local']);
  } finally {
    main.child.kill('SIGKILL');
  }
});

test('bad configuration: every problem on its own line, exit status 2, nothing started', async (t) => {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', SERVER_HTTP_PORT: 'eighty', CACHE_EVICTION_POLICY: 'random' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 2);
  t.regex(stderr, /SERVER_HTTP_PORT="eighty": expected a whole number/);
  t.regex(stderr, /CACHE_EVICTION_POLICY="random": expected lru or lfu/);
});

test('production without AUTH_JWT_SECRET refuses to start', async (t) => {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  t.is(code, 2);
  t.regex(stderr, /AUTH_JWT_SECRET: required when NODE_ENV=production/);
});

test('SIGTERM drains both transports and exits 0', async (t) => {
  const main = await startMain({ AUTH_JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters' });
  t.is((await fetch(`http://127.0.0.1:${main.httpPort}/health`)).status, 200);
  main.child.kill('SIGTERM');
  const [code] = (await once(main.child, 'exit')) as [number];
  t.is(code, 0);
  t.regex(main.stdout(), /shutting down: draining REST and gRPC/);
  t.regex(main.stdout(), /data plane stopped/);
});
