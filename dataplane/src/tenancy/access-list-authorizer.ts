import type { Authorizer, Verb } from '../auth/authorizer.ts';
import { authorizeNamespace, type Principal } from '../auth/principal.ts';
import { CacheError, ErrorCode } from '../errors.ts';
import type { AccessRule } from './namespace-entry.ts';

/** The access list of a served namespace; undefined when the namespace is not served. */
export type AccessLookup = (namespace: string) => readonly AccessRule[] | undefined;

/**
 * NAMESPACES_SOURCE=kubernetes: a call is allowed when its namespace is configured, the token's
 * `namespaces` claim (if it has one) includes it, and one rule of the namespace's access list lists
 * the verb and matches the token's subject or one of its groups.
 */
export class AccessListAuthorizer implements Authorizer {
  readonly #lookup: AccessLookup;

  constructor(lookup: AccessLookup) {
    this.#lookup = lookup;
  }

  authorize(principal: Principal, namespace: string, verb: Verb): void {
    const rules = this.#lookup(namespace);
    if (rules === undefined) {
      throw new CacheError(ErrorCode.Forbidden, `namespace "${namespace}" is not configured`);
    }
    // A token may be scoped narrower than the access lists that name its subject or groups.
    if (principal.namespaces !== undefined) authorizeNamespace(principal, namespace);
    if (!rules.some((rule) => allows(rule, principal, verb))) {
      throw new CacheError(
        ErrorCode.Forbidden,
        `the access list of namespace "${namespace}" does not allow ${describe(principal)} to ${verb}`,
      );
    }
  }
}

function allows(rule: AccessRule, principal: Principal, verb: Verb): boolean {
  if (!rule.verbs.includes(verb)) return false;
  if (principal.subject !== undefined && rule.subjects.includes(principal.subject)) return true;
  return principal.groups.some((group) => rule.groups.includes(group));
}

function describe(principal: Principal): string {
  const subject =
    principal.subject === undefined ? 'a token without a subject' : `subject "${principal.subject}"`;
  if (principal.groups.length === 0) return subject;
  return `${subject} (groups ${principal.groups.map((group) => `"${group}"`).join(', ')})`;
}
