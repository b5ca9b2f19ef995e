import {
  isPostgresConnectionError,
  isPostgresDataException,
  isPostgresValueTooLarge,
} from '../db/postgres-errors';
import { isRedisConnectionError } from '../redis/redis-errors';
import { HttpProblem } from './http-problem';

/** Seconds a client should wait before retrying after a 503 for a lost Postgres or Redis connection. */
export const DRIVER_RETRY_AFTER_SECONDS = 2;

/**
 * The problem to answer for an error of the Postgres (pg) or Redis (ioredis) driver, or `undefined` when
 * the error is not one it knows (then it is a bug: 500). The one place that maps driver errors to HTTP:
 *
 * - a connection-level failure of Postgres (SQLSTATE class 08, 57P01-57P03, 57014 statement time-out,
 *   53300, "Connection terminated", connect and query time-outs, ECONNRESET / ECONNREFUSED / ETIMEDOUT /
 *   EPIPE) or of Redis (connection closed, `MaxRetriesPerRequestError`, command time-out, LOADING) is a
 *   503 with `Retry-After` ({@link DRIVER_RETRY_AFTER_SECONDS}): the request was fine, the data store
 *   was not there;
 * - a Postgres data exception (SQLSTATE class 22: 22021 a NUL byte, 22P02 / 22P05 text or JSON it cannot
 *   take, 22001 too long, ...) is a 400 "A value in the request cannot be stored." (a safety net: request
 *   schemas should name the field first);
 * - a value beyond Postgres's limits (SQLSTATE 54000 an index row or `jsonb` too large, 54001 `jsonb` nested
 *   too deep) is a 400 "A value in the request is too large or nested too deeply to be stored." (a safety
 *   net: request schemas bound sizes, and `wellFormedJson` nesting).
 *
 * The driver's error stays the problem's `cause` (logged, never sent).
 *
 * @example
 * problemFromDriverError(Object.assign(new Error('invalid byte sequence'), { code: '22021' }))?.status; // 400
 * problemFromDriverError(new Error('Connection terminated unexpectedly'))?.headers['Retry-After']; // '2'
 */
export function problemFromDriverError(error: unknown): HttpProblem | undefined {
  if (isPostgresDataException(error))
    return new HttpProblem(400, { detail: 'A value in the request cannot be stored.', cause: error });
  if (isPostgresValueTooLarge(error)) {
    return new HttpProblem(400, {
      detail: 'A value in the request is too large or nested too deeply to be stored.',
      cause: error,
    });
  }
  if (isPostgresConnectionError(error) || isRedisConnectionError(error)) {
    return new HttpProblem(503, {
      detail: 'A data store is unavailable; retry shortly.',
      headers: { 'Retry-After': String(DRIVER_RETRY_AFTER_SECONDS) },
      cause: error,
    });
  }
  return undefined;
}
