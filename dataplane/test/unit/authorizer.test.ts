import test from 'ava';
import jwt from 'jsonwebtoken';
import { TOKEN_GRANT_AUTHORIZER, verbOf, type Verb } from '../../src/auth/authorizer.ts';
import { JwtVerifier, signToken } from '../../src/auth/jwt-verifier.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { CacheError } from '../../src/errors.ts';
import type { Operation } from '../../src/observability/metrics.ts';
import { AccessListAuthorizer } from '../../src/tenancy/access-list-authorizer.ts';
import type { AccessRule } from '../../src/tenancy/namespace-entry.ts';

const SECRET = 'authorizer-test-secret-at-least-32-characters';

function principal(subject: string | undefined, groups: string[] = [], namespaces?: string[]): Principal {
  return {
    subject,
    groups,
    namespaces: namespaces === undefined ? undefined : new Set(namespaces),
    expiresAt: Date.now() + 60_000,
  };
}

/** undefined when allowed, else the FORBIDDEN message. */
function outcome(authorize: () => void): string | undefined {
  try {
    authorize();
    return undefined;
  } catch (error) {
    if (!(error instanceof CacheError) || error.code !== 'FORBIDDEN') throw error;
    return error.message;
  }
}

test('the verb of each operation: a batch needs what each of its keys would', (t) => {
  const expected: Record<Operation, Verb> = {
    get: 'get',
    batch_get: 'get',
    set: 'set',
    batch_set: 'set',
    delete: 'delete',
  };
  for (const [operation, verb] of Object.entries(expected)) t.is(verbOf(operation as Operation), verb);
});

test('static: the namespaces claim alone decides, whatever the verb, with the same message as ever', (t) => {
  const granted = principal('svc', [], ['orders']);
  for (const verb of ['get', 'set', 'delete'] as const) {
    t.is(
      outcome(() => TOKEN_GRANT_AUTHORIZER.authorize(granted, 'orders', verb)),
      undefined,
    );
    t.is(
      outcome(() => TOKEN_GRANT_AUTHORIZER.authorize(granted, 'payments', verb)),
      'the token does not grant namespace "payments"',
    );
  }
  t.is(
    outcome(() => TOKEN_GRANT_AUTHORIZER.authorize(principal('svc', ['admins']), 'orders', 'get')),
    'the token does not grant namespace "orders"',
    'groups grant nothing in static mode',
  );
});

const ACCESS: Record<string, AccessRule[]> = {
  orders: [
    { subjects: ['alice'], groups: [], verbs: ['get', 'set'] },
    { subjects: [], groups: ['auditors', 'readers'], verbs: ['get'] },
    { subjects: ['janitor'], groups: ['ops'], verbs: ['delete'] },
  ],
  locked: [],
};
const authorizer = new AccessListAuthorizer((namespace) => ACCESS[namespace]);

const cases: Array<[string, Principal, string, Verb, string | RegExp | undefined]> = [
  ['a listed subject, a listed verb', principal('alice'), 'orders', 'set', undefined],
  [
    'a listed subject, an unlisted verb',
    principal('alice'),
    'orders',
    'delete',
    /does not allow subject "alice" to delete/,
  ],
  [
    'an unlisted subject',
    principal('bob'),
    'orders',
    'get',
    'the access list of namespace "orders" does not allow subject "bob" to get',
  ],
  ['a listed group', principal('carol', ['staff', 'readers']), 'orders', 'get', undefined],
  [
    'a listed group, a verb only its rule lacks',
    principal('carol', ['readers']),
    'orders',
    'set',
    /subject "carol" \(groups "readers"\) to set/,
  ],
  [
    'a subject of one rule and a group of another: rules are not combined',
    principal('alice', ['ops']),
    'orders',
    'delete',
    undefined,
  ],
  [
    'a group named like a listed subject',
    principal('mallory', ['alice']),
    'orders',
    'get',
    /does not allow subject "mallory"/,
  ],
  [
    'a subject named like a listed group',
    principal('readers'),
    'orders',
    'get',
    /does not allow subject "readers"/,
  ],
  ['no subject, a listed group', principal(undefined, ['auditors']), 'orders', 'get', undefined],
  [
    'no subject, no group',
    principal(undefined),
    'orders',
    'get',
    /does not allow a token without a subject to get/,
  ],
  [
    'an empty access list',
    principal('alice'),
    'locked',
    'get',
    /namespace "locked" does not allow subject "alice"/,
  ],
  [
    'a namespace not configured',
    principal('alice'),
    'payments',
    'get',
    'namespace "payments" is not configured',
  ],
  [
    'not configured comes first, whatever the token',
    principal('alice', [], ['payments']),
    'payments',
    'get',
    'namespace "payments" is not configured',
  ],
  ['a token scoped to the namespace', principal('alice', [], ['orders', 'x']), 'orders', 'set', undefined],
  [
    'a token scoped narrower than the access list',
    principal('alice', [], ['x']),
    'orders',
    'get',
    'the token does not grant namespace "orders"',
  ],
  [
    'a token scoped to nothing',
    principal('carol', ['readers'], []),
    'orders',
    'get',
    'the token does not grant namespace "orders"',
  ],
  [
    'scoping grants nothing by itself',
    principal('bob', [], ['orders']),
    'orders',
    'get',
    /does not allow subject "bob" to get/,
  ],
  [
    'a malformed namespace is not configured (403 before any 400)',
    principal('alice'),
    'Bad_NS',
    'get',
    'namespace "Bad_NS" is not configured',
  ],
];

for (const [name, who, namespace, verb, expected] of cases) {
  test(`access lists: ${name}`, (t) => {
    const message = outcome(() => authorizer.authorize(who, namespace, verb));
    if (expected === undefined) t.is(message, undefined);
    else if (typeof expected === 'string') t.is(message, expected);
    else t.regex(message ?? '(allowed)', expected);
  });
}

function rawToken(claims: Record<string, unknown>): string {
  return jwt.sign({ sub: 'svc', exp: Math.floor(Date.now() / 1000) + 600, ...claims }, SECRET, {
    algorithm: 'HS256',
  });
}

const tokenGrants = new JwtVerifier({ secret: SECRET, cacheSize: 0 });
const accessLists = new JwtVerifier({ secret: SECRET, cacheSize: 0, authorization: 'access-lists' });

const verifierCases: Array<[string, JwtVerifier, Record<string, unknown>, RegExp | Partial<Principal>]> = [
  [
    'static: namespaces required',
    tokenGrants,
    {},
    /the "namespaces" claim must be an array of namespace names/,
  ],
  ['static: groups are not read', tokenGrants, { namespaces: ['a'], groups: 'not-a-list' }, { groups: [] }],
  [
    'access lists: namespaces optional',
    accessLists,
    { groups: ['g'] },
    { namespaces: undefined, groups: ['g'] },
  ],
  ['access lists: no groups is no group', accessLists, {}, { groups: [] }],
  [
    'access lists: namespaces still an array when present',
    accessLists,
    { namespaces: 'orders' },
    /the "namespaces" claim must be an array/,
  ],
  [
    'access lists: namespaces null is not absent',
    accessLists,
    { namespaces: null },
    /the "namespaces" claim must be an array/,
  ],
  [
    'access lists: groups a string',
    accessLists,
    { groups: 'admins' },
    /the "groups" claim must be an array of group names/,
  ],
  [
    'access lists: groups with a number',
    accessLists,
    { groups: ['a', 1] },
    /the "groups" claim must be an array of group names/,
  ],
];

for (const [name, verifier, claims, expected] of verifierCases) {
  test(`verifier: ${name}`, (t) => {
    const verify = () => verifier.verify(`Bearer ${rawToken(claims)}`);
    if (expected instanceof RegExp) {
      const error = t.throws(verify, { instanceOf: CacheError });
      t.is(error.code, 'UNAUTHORIZED');
      t.regex(error.message, expected);
    } else {
      t.like(verify(), expected);
    }
  });
}

test('signToken writes groups, and leaves namespaces out when not given', (t) => {
  const token = signToken(SECRET, { subject: 'carol', groups: ['readers'], ttlSeconds: 60 });
  const claims = jwt.decode(token) as Record<string, unknown>;
  t.deepEqual(claims['groups'], ['readers']);
  t.false('namespaces' in claims);
  t.like(accessLists.verify(`Bearer ${token}`), {
    subject: 'carol',
    groups: ['readers'],
    namespaces: undefined,
  });
});
