import { CacheError, ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/** Replies that mean Redis refuses who we say we are, rather than that it is unreachable. */
const CREDENTIALS_REFUSED = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

/**
 * Remembers that Redis refused a namespace's credentials when connecting (WRONGPASS and the like,
 * also when a cluster reports it as the `lastNodeError` of a failed slots refresh), until the
 * connection is ready again. Such a namespace must fail its calls with a clear error rather than be
 * served degraded: writes kept for a replay would never be replayed with these credentials.
 */
export class CredentialsRefusal {
  readonly #namespace: string;
  readonly #user: string;
  readonly #secret: string;
  readonly #logger: Logger;
  #error: CacheError | undefined;

  constructor(options: { namespace: string; user: string; secret: string; logger: Logger }) {
    this.#namespace = options.namespace;
    this.#user = options.user;
    this.#secret = options.secret;
    this.#logger = options.logger;
  }

  /** The error every call gets while the credentials are refused. */
  get error(): CacheError | undefined {
    return this.#error;
  }

  /** Takes every connection error; only refusals count. */
  notice(error: Error): void {
    const lastNodeError = (error as { lastNodeError?: unknown }).lastNodeError;
    const refused = [error, lastNodeError].find(
      (candidate): candidate is Error =>
        candidate instanceof Error && CREDENTIALS_REFUSED.test(candidate.message),
    );
    if (refused === undefined) return;
    if (this.#error === undefined) {
      this.#logger.error(
        { aclUser: this.#user, err: refused.message },
        'redis refuses the namespace credentials',
      );
    }
    this.#error = new CacheError(
      ErrorCode.RedisUnavailable,
      `Redis refuses the credentials of namespace "${this.#namespace}" (ACL user "${this.#user}"): ${refused.message.trim()}; calls fail until Secret ${this.#secret} or the ACL user is fixed`,
    );
  }

  /** The connection is ready: the credentials work. */
  clear(): void {
    this.#error = undefined;
  }
}
