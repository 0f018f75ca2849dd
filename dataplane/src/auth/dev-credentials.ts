import { randomBytes } from 'node:crypto';
import { signToken } from './jwt-verifier.ts';

export interface DevCredentials {
  secret: string;
  /** A token of subject `dev`, valid for a day: for the `default` namespace, or scoped by access lists. */
  token: string;
}

/**
 * For the embedded default without AUTH_JWT_SECRET (never in production: config refuses that): a
 * random secret for this process only, and a ready-to-use token so the first request just works.
 * With access lists (NAMESPACES_SOURCE=kubernetes) the token grants no namespace by itself: it is
 * allowed wherever an access list names subject `dev`.
 */
export function generateDevCredentials(
  issuer: string | undefined,
  audience: string | undefined,
  authorization: 'token-grants' | 'access-lists' = 'token-grants',
): DevCredentials {
  const secret = randomBytes(32).toString('base64url');
  const token = signToken(secret, {
    subject: 'dev',
    namespaces: authorization === 'token-grants' ? ['default'] : undefined,
    ttlSeconds: 24 * 3600,
    issuer,
    audience,
  });
  return { secret, token };
}
