// A whole data plane in the test process, on free ports, with its logs captured: the same
// startDataPlane() that main.ts runs, configured through the same environment variables.
import { Writable } from 'node:stream';
import { signToken, type TokenClaims } from '../../src/auth/jwt-verifier.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startDataPlane, type DataPlane, type DataPlaneOptions } from '../../src/data-plane.ts';
import { createLogger } from '../../src/observability/logger.ts';

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface TestDataPlane {
  dataPlane: DataPlane;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `127.0.0.1:<port>` */
  grpcAddress: string;
  /** Every JSON log line written so far. */
  logs: Array<Record<string, unknown>>;
  token(namespaces: string[], subject?: string): string;
  /** A token with any claims (valid for an hour): `groups`, and no `namespaces` at all. */
  signedToken(claims: Omit<TokenClaims, 'ttlSeconds'>): string;
  stop(): Promise<void>;
}

export async function startTestDataPlane(
  env: Record<string, string> = {},
  options: DataPlaneOptions = {},
): Promise<TestDataPlane> {
  const config = loadConfig({
    SERVER_HOST: '127.0.0.1',
    SERVER_HTTP_PORT: '0',
    SERVER_GRPC_PORT: '0',
    SERVER_GRACEFUL_TIMEOUT: '2s',
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const dataPlane = await startDataPlane(config, createLogger(config.logLevel, sink), options);
  return {
    dataPlane,
    baseUrl: `http://127.0.0.1:${dataPlane.httpPort}`,
    grpcAddress: `127.0.0.1:${dataPlane.grpcPort}`,
    logs,
    token: (namespaces, subject = 'test') =>
      signToken(config.auth.jwtSecret ?? TEST_SECRET, { subject, namespaces, ttlSeconds: 3600 }),
    signedToken: (claims) => signToken(config.auth.jwtSecret ?? TEST_SECRET, { ...claims, ttlSeconds: 3600 }),
    stop: () => dataPlane.close(),
  };
}
