import type { Authorizer } from '../auth/authorizer.ts';
import type { JwtVerifier } from '../auth/jwt-verifier.ts';
import type { CacheService } from '../cache/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';

/** What the REST and gRPC adapters are built from: both are thin layers over one CacheService. */
export interface TransportDeps {
  cache: CacheService;
  verifier: JwtVerifier;
  /** Who may do what in which namespace; default: the token's `namespaces` claim decides (static). */
  authorizer?: Authorizer | undefined;
  metrics: Metrics;
  logger: Logger;
  limits: {
    /** Largest request body / message accepted, in bytes. */
    maxRequestBytes: number;
  };
  /** Where Prometheus metrics are served over HTTP (METRICS_PATH). */
  metricsPath: string;
}
