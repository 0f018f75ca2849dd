import type Router from '@koa/router';
import type { HealthReport } from '../cache/types.ts';
import type { TransportDeps } from '../transport/transport-deps.ts';
import { RestError, RestErrorCode } from './rest-error.ts';
import type { RestState } from './rest-state.ts';

/** The JSON body of GET /health. */
export interface HealthResponse extends HealthReport {
  /** `degraded` while Redis is not fully there (the local cache answers) or when not healthy. */
  status: 'ok' | 'degraded';
}

/** The JSON body of GET /ready. */
export interface ReadyResponse {
  ready: boolean;
}

/** Unauthenticated routes for probes, Prometheus and API clients. */
export function addOpsRoutes(router: Router<RestState>, deps: TransportDeps, openApiJson: string): void {
  router.get('/health', (ctx) => {
    const report = deps.cache.health();
    ctx.set('cache-control', 'no-store');
    ctx.status = report.healthy ? 200 : 503;
    ctx.body = healthBody(report);
  });

  router.get('/ready', (ctx) => {
    const { ready } = deps.cache.health();
    ctx.set('cache-control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { ready } satisfies ReadyResponse;
  });

  router.get(deps.metricsPath, async (ctx) => {
    const metrics = await deps.metrics.render();
    if (metrics === undefined) {
      throw new RestError(RestErrorCode.RouteNotFound, 'metrics are disabled (METRICS_ENABLED=false)');
    }
    ctx.type = metrics.contentType;
    ctx.body = metrics.body;
  });

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = openApiJson;
  });
}

/** Field by field, so that a new field of HealthReport is a deliberate change of the public API. */
function healthBody(report: HealthReport): HealthResponse {
  const redisFine = report.redisStatus === 'up' || report.redisStatus === 'embedded';
  return {
    status: report.healthy && redisFine ? 'ok' : 'degraded',
    healthy: report.healthy,
    ready: report.ready,
    mode: report.mode,
    redisStatus: report.redisStatus,
    brokerStatus: report.brokerStatus,
    breakerState: report.breakerState,
    pendingWrites: report.pendingWrites,
  };
}
