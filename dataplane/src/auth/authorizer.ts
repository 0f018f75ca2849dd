import type { Operation } from '../observability/metrics.ts';
import { authorizeNamespace, type Principal } from './principal.ts';

/** What an access rule can allow. */
export type Verb = 'get' | 'set' | 'delete';

/** Decides whether a verified caller may do `verb` in `namespace`; throws FORBIDDEN if not. */
export interface Authorizer {
  authorize(principal: Principal, namespace: string, verb: Verb): void;
}

const VERB_OF: Readonly<Record<Operation, Verb>> = {
  get: 'get',
  batch_get: 'get',
  set: 'set',
  batch_set: 'set',
  delete: 'delete',
};

/** The verb an operation needs: a batch needs what each of its keys would. */
export function verbOf(operation: Operation): Verb {
  return VERB_OF[operation];
}

/** NAMESPACES_SOURCE=static: the token's `namespaces` claim alone decides, whatever the verb. */
export const TOKEN_GRANT_AUTHORIZER: Authorizer = {
  authorize: (principal, namespace) => authorizeNamespace(principal, namespace),
};
