import { isNetworkError } from '../db/postgres-errors';

/**
 * Messages (or their start) of ioredis errors that mean the connection, not the command, failed:
 * closed connection, the offline queue given up (MaxRetriesPerRequestError), no answer within
 * `commandTimeout`, a disabled offline queue, and server replies that mean "not now" (LOADING a dataset,
 * MASTERDOWN, BUSY running a script, TRYAGAIN).
 */
const CONNECTION_MESSAGES = [
  'Connection is closed.',
  'Command timed out',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
  'LOADING ',
  'MASTERDOWN ',
  'BUSY ',
  'TRYAGAIN ',
];

/**
 * Whether an ioredis error is connection-level: the connection closed or could not be made, the command
 * got no answer within REDIS_COMMAND_TIMEOUT_MS, it waited in the offline queue past its reconnect
 * attempts (`MaxRetriesPerRequestError`), or the server is loading or failing over. Retrying later may
 * succeed; the command itself was fine.
 *
 * @example
 * const value = await redis.get(key).catch((error) => {
 *   if (isRedisConnectionError(error)) throw new HttpProblem(503, { headers: { 'Retry-After': '2' } });
 *   throw error;
 * });
 */
export function isRedisConnectionError(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  return CONNECTION_MESSAGES.some((message) => error.message.startsWith(message));
}

/**
 * One line saying where Redis is and why it cannot be used, for operators: host and port from the URL
 * (never the user or password) and the client's reason.
 *
 * @example
 * describeRedisFailure('redis://:secret@cache:6379', error);
 * // 'Redis at cache:6379 is unreachable (connect ECONNREFUSED 10.0.0.7:6379)'
 */
export function describeRedisFailure(redisUrl: string, error: unknown): string {
  let where = '(REDIS_URL is not a valid URL)';
  try {
    const url = new URL(redisUrl);
    where = `${url.hostname || 'localhost'}:${url.port || '6379'}`;
  } catch {
    // keep the placeholder: the URL itself may hold a password
  }
  const reason =
    error instanceof Error && error.name === 'MaxRetriesPerRequestError'
      ? 'no connection within the reconnect attempts of a command'
      : error instanceof Error
        ? error.message || error.name
        : String(error);
  return `Redis at ${where} is unreachable (${reason.replaceAll(redisUrl, '[REDIS_URL]')})`;
}
