import { CacheError, ErrorCode } from '../errors.ts';

/** The verified caller of a cache operation. */
export interface Principal {
  subject: string | undefined;
  /** The cache namespaces the token grants (its `namespaces` claim). */
  namespaces: ReadonlySet<string>;
  /** Token expiry, ms since the epoch. */
  expiresAt: number;
}

/** Throws FORBIDDEN unless the principal's token grants `namespace`. */
export function authorizeNamespace(principal: Principal, namespace: string): void {
  if (!principal.namespaces.has(namespace)) {
    throw new CacheError(ErrorCode.Forbidden, `the token does not grant namespace "${namespace}"`);
  }
}
