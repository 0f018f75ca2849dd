import { randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: 43 characters, 256 bits, safe in URLs, env vars and YAML. */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Whether a password read back from the Secret is one the operator would have generated. Anything
 * else (emptied, truncated, edited by hand) is replaced by a fresh one.
 */
export function isUsablePassword(password: string | undefined): password is string {
  return password !== undefined && /^[A-Za-z0-9_-]{43}$/.test(password);
}
