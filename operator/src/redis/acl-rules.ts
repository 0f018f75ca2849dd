// Redis ACL rules as data: what a namespace's user must look like, how that is written as the
// arguments of ACL SETUSER, how ACL GETUSER's reply reads back, and how the two are compared.
// Pure functions; acl-admin.ts sends them to Redis. Needs Redis >= 7.0 (GETUSER's reply shape).
import { createHash } from 'node:crypto';

/** A Redis ACL user of one cache namespace, without its password. */
export interface AclUserSpec {
  name: string;
  /** Glob patterns without the `~` (e.g. `orders:*`); read and write. */
  keyPatterns: readonly string[];
  /** Commands and `command|subcommand`s allowed, lowercase, without the `+`. Nothing else is. */
  commands: readonly string[];
}

/** A user as one Redis node reports it (ACL GETUSER), normalized. */
export interface AclUserState {
  flags: string[];
  /** SHA-256 hex digests. */
  passwordHashes: string[];
  /** Tokens of the `commands` description, e.g. `-@all`, `+get`. */
  commandRules: string[];
  /** `~pattern` / `%R~pattern` tokens. */
  keyRules: string[];
  /** `&pattern` tokens. */
  channelRules: string[];
  /** How many extra selectors (`(...)` rule sets) the user has. */
  selectorCount: number;
}

/** How Redis stores a password, and how `#<hash>` in ACL SETUSER names one. */
export function passwordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/**
 * The rules after the user name in `ACL SETUSER <name> ...`, for a password given by its hash.
 *
 * `reset` comes first because ACL SETUSER adds to a user's existing rules: after it, the user is
 * exactly what follows, whatever was there (a stale password, a command added by hand). The user is
 * swapped atomically: Redis applies all the rules or none. `#<sha256>` sets the password without
 * sending it in clear (Redis keeps only the hash either way). `resetchannels` and `-@all` are implied
 * by `reset` but spelled out so that the list reads as the whole permission set.
 */
export function setUserRules(user: AclUserSpec, hash: string): string[] {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error('setUserRules: the password hash must be SHA-256 hex');
  return rulesWithPasswordRule(user, `#${hash}`);
}

/** setUserRules with the password rule given as is (e.g. a placeholder, for documentation). */
export function rulesWithPasswordRule(user: AclUserSpec, passwordRule: string): string[] {
  return [
    'reset',
    'on',
    passwordRule,
    ...user.keyPatterns.map((pattern) => `~${pattern}`),
    'resetchannels',
    '-@all',
    ...user.commands.map((command) => `+${command}`),
  ];
}

/** Reads ACL GETUSER's reply (RESP2 flat array, RESP3 map, or an object); undefined for no user. */
export function parseGetUser(reply: unknown): AclUserState | undefined {
  if (reply === null || reply === undefined) return undefined;
  const fields = toRecord(reply);
  return {
    flags: strings(fields['flags']),
    passwordHashes: strings(fields['passwords']),
    commandRules: tokens(fields['commands']),
    keyRules: tokens(fields['keys']),
    channelRules: tokens(fields['channels']),
    selectorCount: Array.isArray(fields['selectors']) ? fields['selectors'].length : 0,
  };
}

/**
 * Where a node's user differs from the desired one; empty when it matches exactly. Flags other than
 * on/off/nopass (e.g. `sanitize-payload`, a server-wide default) are not the operator's concern.
 */
export function aclDrift(user: AclUserSpec, hash: string, state: AclUserState | undefined): string[] {
  if (state === undefined) return [`user ${user.name} does not exist`];
  const problems: string[] = [];
  if (!state.flags.includes('on')) problems.push('the user is disabled (off)');
  if (state.flags.includes('nopass')) problems.push('the user accepts any password (nopass)');
  if (state.passwordHashes.length !== 1 || state.passwordHashes[0] !== hash) {
    problems.push(`the user has ${state.passwordHashes.length} password(s), not exactly the desired one`);
  }
  compareSets(
    'command rule',
    ['-@all', ...user.commands.map((command) => `+${command}`)],
    state.commandRules,
    problems,
  );
  compareSets(
    'key pattern',
    user.keyPatterns.map((pattern) => `~${pattern}`),
    state.keyRules,
    problems,
  );
  compareSets('channel pattern', [], state.channelRules, problems);
  if (state.selectorCount > 0) problems.push(`the user has ${state.selectorCount} extra selector(s)`);
  return problems;
}

function compareSets(what: string, desired: string[], actual: string[], problems: string[]): void {
  const want = new Set(desired);
  const have = new Set(actual);
  const extra = [...have].filter((rule) => !want.has(rule));
  const missing = [...want].filter((rule) => !have.has(rule));
  if (extra.length > 0) problems.push(`extra ${what}(s): ${extra.join(' ')}`);
  if (missing.length > 0) problems.push(`missing ${what}(s): ${missing.join(' ')}`);
}

function toRecord(reply: unknown): Record<string, unknown> {
  if (reply instanceof Map) return Object.fromEntries(reply) as Record<string, unknown>;
  if (Array.isArray(reply)) {
    const record: Record<string, unknown> = {};
    for (let index = 0; index + 1 < reply.length; index += 2) record[String(reply[index])] = reply[index + 1];
    return record;
  }
  if (typeof reply === 'object' && reply !== null) return reply as Record<string, unknown>;
  throw new Error(`unexpected ACL GETUSER reply: ${JSON.stringify(reply)}`);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** The tokens of a space-separated rule description such as `-@all +get +set`. */
function tokens(value: unknown): string[] {
  const text = Array.isArray(value) ? value.map(String).join(' ') : typeof value === 'string' ? value : '';
  return text.split(' ').filter((token) => token !== '');
}

/** The nodes whose user differs from the desired one, with how; empty when every node matches. */
export function nodesOutOfSync(
  user: AclUserSpec,
  hash: string,
  states: ReadonlyMap<string, AclUserState | undefined>,
): Array<{ node: string; problems: string[] }> {
  return [...states]
    .map(([node, state]) => ({ node, problems: aclDrift(user, hash, state) }))
    .filter(({ problems }) => problems.length > 0);
}
