import type { JwtVerifier } from '../auth/jwt-verifier.ts';
import { authorizeNamespace } from '../auth/principal.ts';
import type { RestRouteMiddleware } from './rest-state.ts';

/**
 * Bearer JWT on every cache route, before the body is read or anything is validated: 401 (no or
 * bad token) comes before 403 (namespace not granted), which comes before any 4xx about the
 * request itself. A malformed namespace is therefore a 403 unless the token grants it verbatim;
 * then the cache service answers 400 NAMESPACE_INVALID.
 */
export function requireNamespaceGrant(verifier: JwtVerifier): RestRouteMiddleware {
  return (ctx, next) => {
    const principal = verifier.verify(ctx.get('authorization'));
    const namespace = ctx.params['namespace'] ?? '';
    authorizeNamespace(principal, namespace);
    ctx.state.principal = principal;
    ctx.state.namespace = namespace;
    return next();
  };
}
