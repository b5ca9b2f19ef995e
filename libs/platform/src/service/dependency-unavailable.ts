import { describePostgresFailure, isNetworkError, isPostgresConnectFailure } from '../db/postgres-errors';
import { describeRedisFailure, isRedisConnectionError } from '../redis/redis-errors';

/**
 * A dependency the service cannot do without is unavailable: its message is one line for operators
 * (what failed, where, why, what to check; never a secret), printed by `runService` instead of a stack
 * trace, and the process exits 1.
 *
 * @example
 * throw new DependencyUnavailableError('applets: cannot run migrations: Postgres at db:5432/applets is unreachable (connect ECONNREFUSED 10.0.0.5:5432); check DATABASE_URL');
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
}

/** The port a URL names, with the scheme's default. */
function urlPort(url: string | undefined, fallback: string): string | undefined {
  try {
    return url === undefined ? undefined : new URL(url).port || fallback;
  } catch {
    return undefined;
  }
}

/**
 * The {@link DependencyUnavailableError} for an error that means Postgres (DATABASE_URL) or Redis
 * (REDIS_URL) could not be used (the error itself if it is one already), or `undefined` for any other error. A plain socket error (ECONNREFUSED,
 * ...) is told apart by the port it names.
 *
 * @example
 * const unavailable = dependencyUnavailable('applets', 'cannot start', process.env, error);
 * // 'applets: cannot start: Redis at cache:6379 is unreachable (connect ECONNREFUSED 10.0.0.7:6379); check REDIS_URL'
 */
export function dependencyUnavailable(
  service: string,
  doing: string,
  env: { DATABASE_URL?: string; REDIS_URL?: string },
  error: unknown,
): DependencyUnavailableError | undefined {
  if (error instanceof DependencyUnavailableError) return error;
  const postgres = env.DATABASE_URL !== undefined && isPostgresConnectFailure(error);
  const redis = env.REDIS_URL !== undefined && isRedisConnectionError(error);
  let blame: 'postgres' | 'redis' | undefined =
    postgres && !redis ? 'postgres' : redis && !postgres ? 'redis' : undefined;
  if (postgres && redis && isNetworkError(error)) {
    const port = String((error as { port?: unknown }).port ?? '');
    if (port === urlPort(env.DATABASE_URL, '5432')) blame = 'postgres';
    else if (port === urlPort(env.REDIS_URL, '6379')) blame = 'redis';
  }
  if (blame === 'postgres')
    return new DependencyUnavailableError(
      `${service}: ${doing}: ${describePostgresFailure(env.DATABASE_URL ?? '', error)}; check DATABASE_URL`,
      { cause: error },
    );
  if (blame === 'redis')
    return new DependencyUnavailableError(
      `${service}: ${doing}: ${describeRedisFailure(env.REDIS_URL ?? '', error)}; check REDIS_URL`,
      { cause: error },
    );
  return undefined;
}
