import Router from '@koa/router';
import Koa from 'koa';
import type { TransportDeps } from '../transport/transport-deps.ts';
import { accessLog } from './access-log-middleware.ts';
import { addCacheRoutes } from './cache-routes.ts';
import { coalesceResponses } from './coalesce-middleware.ts';
import { correlation } from './correlation-middleware.ts';
import { errorResponses } from './errors-middleware.ts';
import { loadOpenApiDocument } from './openapi-document.ts';
import { addOpsRoutes } from './ops-routes.ts';
import type { RestState } from './rest-state.ts';
import { unmatchedRequests } from './unmatched-middleware.ts';

/**
 * The REST adapter over the cache service (wiring only; the caller listens). Order matters:
 * responses coalesced per event-loop turn outermost (once everything else is done), correlation id
 * next so that every response and log line carries it, the access log around everything that decides
 * the status, error mapping around the router.
 */
export function createRestApp(deps: TransportDeps): Koa<RestState> {
  const router = new Router<RestState>({ sensitive: true });
  addCacheRoutes(router, deps);
  addOpsRoutes(router, deps, loadOpenApiDocument());

  const app = new Koa<RestState>();
  app.use(coalesceResponses());
  app.use(correlation(deps.logger));
  app.use(accessLog());
  app.use(errorResponses());
  app.use(unmatchedRequests());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
