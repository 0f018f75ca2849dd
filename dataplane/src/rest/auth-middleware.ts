import { TOKEN_GRANT_AUTHORIZER, verbOf, type Authorizer } from '../auth/authorizer.ts';
import type { JwtVerifier } from '../auth/jwt-verifier.ts';
import type { Operation } from '../observability/metrics.ts';
import type { RestRouteMiddleware } from './rest-state.ts';

/**
 * Bearer JWT on every cache route, before the body is read or anything is validated: 401 (no or
 * bad token) comes before 403 (the authorizer refuses the namespace or the verb), which comes
 * before any 4xx about the request itself. A malformed namespace is therefore a 403 unless it is
 * authorized verbatim; then the cache service answers 400 NAMESPACE_INVALID.
 */
export function requireNamespaceGrant(
  verifier: JwtVerifier,
  authorizer: Authorizer = TOKEN_GRANT_AUTHORIZER,
): (operation: Operation) => RestRouteMiddleware {
  return (operation) => {
    const verb = verbOf(operation);
    return (ctx, next) => {
      const principal = verifier.verify(ctx.get('authorization'));
      const namespace = ctx.params['namespace'] ?? '';
      authorizer.authorize(principal, namespace, verb);
      ctx.state.principal = principal;
      ctx.state.namespace = namespace;
      return next();
    };
  };
}
