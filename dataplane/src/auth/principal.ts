import { CacheError, ErrorCode } from '../errors.ts';

/** The verified caller of a cache operation. */
export interface Principal {
  subject: string | undefined;
  /**
   * The cache namespaces the token grants (its `namespaces` claim). Always set when tokens grant
   * namespaces (NAMESPACES_SOURCE=static); with access lists it is optional and only narrows.
   */
  namespaces: ReadonlySet<string> | undefined;
  /** The token's `groups` claim (read only with access lists; empty otherwise). */
  groups: readonly string[];
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
}

/** Throws FORBIDDEN unless the principal's token grants `namespace`. */
export function authorizeNamespace(principal: Principal, namespace: string): void {
  if (principal.namespaces?.has(namespace) !== true) {
    throw new CacheError(ErrorCode.Forbidden, `the token does not grant namespace "${namespace}"`);
  }
}
