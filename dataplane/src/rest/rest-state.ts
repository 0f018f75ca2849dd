import type { RouterContext, RouterMiddleware } from '@koa/router';
import type { Middleware } from 'koa';
import type { Principal } from '../auth/principal.ts';
import type { RequestContext } from '../cache/types.ts';

/** What the REST middleware leave on `ctx.state` for the ones that run after them. */
export interface RestState {
  /** Set first, for every request: the correlation id and a logger bound to it. */
  requestContext: RequestContext;
  /** The verified caller, once the auth middleware has run. */
  principal?: Principal;
  /** The namespace the caller was authorized for (only then: it becomes a metric label). */
  namespace?: string;
  /** The code of the error response, for the access log. */
  errorCode?: string;
}

export type RestMiddleware = Middleware<RestState>;
export type RestRouteMiddleware = RouterMiddleware<RestState>;
export type RestRouteContext = RouterContext<RestState>;
