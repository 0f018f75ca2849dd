import type { CacheService } from '../../src/cache/types.ts';
// The REST adapter on a real loopback socket, over the fake CacheService, with captured log lines
// and recorded request metrics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { JwtVerifier, signToken } from '../../src/auth/jwt-verifier.ts';
import { createLogger } from '../../src/observability/logger.ts';
import {
  NoopMetrics,
  type Metrics,
  type Operation,
  type Transport,
} from '../../src/observability/metrics.ts';
import { createRestApp } from '../../src/rest/app.ts';
import type { TransportDeps } from '../../src/transport/transport-deps.ts';
import { FakeCacheService, type FakeCacheLimits } from '../support/fake-cache-service.ts';

export const SECRET = 'rest-adapter-test-secret-at-least-32-characters';
export const ISSUER = 'cacheplane-tests';
export const AUDIENCE = 'cacheplane-dataplane';
export const NAMESPACE = 'team-a';
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface RecordedRequest {
  transport: Transport;
  operation: Operation;
  namespace: string;
  result: string;
}

/** Metrics that remember every finished request (and ignore the rest). */
export interface RecordingMetrics extends Metrics {
  readonly requests: RecordedRequest[];
}

export function createRecordingMetrics(): RecordingMetrics {
  const requests: RecordedRequest[] = [];
  return Object.assign(new NoopMetrics(), {
    requests,
    request(transport: Transport, operation: Operation, namespace: string, result: string): void {
      requests.push({ transport, operation, namespace, result });
    },
  });
}

export interface RestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body; undefined when it is not JSON. */
  json: unknown;
}

export interface RequestOptions {
  /** Serialized as JSON (with Content-Type: application/json) unless it is already a string. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A bearer token; default: a valid one for NAMESPACE. `null` sends no Authorization header. */
  token?: string | null;
}

export interface RestHarness {
  baseUrl: string;
  cache: FakeCacheService;
  metrics: RecordingMetrics;
  /** Every JSON log line written so far. */
  logs: Array<Record<string, unknown>>;
  /** A valid token granting `namespaces` (default: NAMESPACE). */
  token(namespaces?: string[]): string;
  request(method: string, path: string, options?: RequestOptions): Promise<RestResponse>;
}

export interface HarnessOptions {
  limits?: Partial<FakeCacheLimits>;
  /** A real CacheService to serve instead of the fake (the fake still backs `cache`, unused then). */
  service?: CacheService;
  metrics?: Metrics;
  metricsPath?: string;
}

/** Starts the app on 127.0.0.1:0; it is closed when the test ends. */
export async function startRestHarness(
  t: ExecutionContext,
  options: HarnessOptions = {},
): Promise<RestHarness> {
  const cache = new FakeCacheService(options.limits === undefined ? {} : { limits: options.limits });
  const recording = createRecordingMetrics();
  const logs: Array<Record<string, unknown>> = [];
  const deps: TransportDeps = {
    cache: options.service ?? cache,
    verifier: new JwtVerifier({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }),
    metrics: options.metrics ?? recording,
    logger: createLogger('debug', captureLines(logs)),
    limits: { maxRequestBytes: MAX_REQUEST_BYTES },
    metricsPath: options.metricsPath ?? '/metrics',
  };
  const handle = createRestApp(deps).callback();
  // Koa's handler settles its own errors; the returned promise only says when it is done.
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.close();
    server.closeAllConnections();
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = (namespaces: string[] = [NAMESPACE]): string =>
    signToken(SECRET, { subject: 'tester', namespaces, ttlSeconds: 600, issuer: ISSUER, audience: AUDIENCE });
  const validToken = token();

  return {
    baseUrl,
    cache,
    metrics: recording,
    logs,
    token,
    async request(method, path, { body, headers = {}, token: bearer = validToken } = {}) {
      const sent: Record<string, string> = { ...headers };
      if (bearer !== null) sent['authorization'] ??= `Bearer ${bearer}`;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        sent['content-type'] ??= 'application/json';
      }
      const response = await fetch(baseUrl + path, { method, headers: sent, body: payload ?? null });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, json: parseJson(text) };
    },
  };
}

/** `/api/v1/cache/<namespace>/<key>` with the key percent-encoded as a client would. */
export function keyPath(key: string, namespace: string = NAMESPACE): string {
  return `/api/v1/cache/${namespace}/${encodeURIComponent(key)}`;
}

export function batchPath(operation: 'get' | 'set', namespace: string = NAMESPACE): string {
  return `/api/v1/cache/${namespace}/batch/${operation}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function captureLines(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
}
