import { randomBytes } from 'node:crypto';
import { signToken } from './jwt-verifier.ts';

export interface DevCredentials {
  secret: string;
  /** A token for the `default` namespace, valid for a day. */
  token: string;
}

/**
 * For the embedded default without AUTH_JWT_SECRET (never in production: config refuses that): a
 * random secret for this process only, and a ready-to-use token so the first request just works.
 */
export function generateDevCredentials(
  issuer: string | undefined,
  audience: string | undefined,
): DevCredentials {
  const secret = randomBytes(32).toString('base64url');
  const token = signToken(secret, {
    subject: 'dev',
    namespaces: ['default'],
    ttlSeconds: 24 * 3600,
    issuer,
    audience,
  });
  return { secret, token };
}
