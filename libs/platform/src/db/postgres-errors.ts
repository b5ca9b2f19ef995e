/**
 * What node-postgres errors mean for the caller. Connection-level failures (the server is unreachable,
 * went away, refuses connections, or did not answer in time) are worth a retry later; data exceptions are
 * the request's fault. The one place that knows the SQLSTATEs and driver messages.
 */

/** Socket errors (Node `code`s) that mean the network path to a server failed; Redis errors use them too. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs outside class 08 (connection exception) that still mean "not now": 57P01 admin_shutdown,
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, recovering), 57014 query_canceled (the
 * statement time-out), 53300 too_many_connections. From the PostgreSQL manual, appendix A.
 */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '57014', '53300']);

/** Messages node-postgres and pg-pool use for a lost, closed or timed-out connection (they carry no code). */
const CONNECTION_MESSAGES = [
  'Connection terminated', // "... unexpectedly", "... due to connection timeout"
  'Query read timeout', // query_timeout
  'timeout exceeded when trying to connect', // pg-pool connectionTimeoutMillis
  'is not queryable', // "Client has encountered a connection error and is not queryable"
  'Cannot use a pool after calling end on the pool',
];

/** The message of pg's error when `query_timeout` passes. */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether a socket-level error (or every error of an AggregateError, as Node's connect raises) failed. */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.every(isNetworkError);
  const code = codeOf(error);
  return code !== undefined && NETWORK_ERROR_CODES.has(code);
}

/**
 * Whether a node-postgres error is connection-level: SQLSTATE class 08, 57P01-57P03, 57014 (statement
 * time-out), 53300, a lost or refused socket (ECONNRESET, ECONNREFUSED, ETIMEDOUT, EPIPE, ...), or a
 * connect / query time-out of the driver or pool. Such an error says nothing about the request: retrying
 * later may succeed.
 *
 * @example
 * try { await db.selectFrom('applets').selectAll().execute(); }
 * catch (error) { if (isPostgresConnectionError(error)) res.set('Retry-After', '2').sendStatus(503); }
 */
export function isPostgresConnectionError(error: unknown): boolean {
  if (isNetworkError(error)) return true;
  const code = codeOf(error);
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code))
    return code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code);
  if (!(error instanceof Error)) return false;
  return CONNECTION_MESSAGES.some((message) => error.message.includes(message));
}

/** Whether pg gave up waiting for a query's answer (`query_timeout`); the connection is then unusable. */
export function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_TIMEOUT_MESSAGE;
}

/**
 * Whether a Postgres error is a data exception (SQLSTATE class 22): a value the database cannot store or
 * convert, such as 22021 (a NUL byte in text), 22P02 (invalid text representation), 22P05 (untranslatable
 * character, e.g. `\u0000` in jsonb), 22001 (too long). It is the input's fault, not the server's.
 *
 * @example
 * isPostgresDataException(await db.insertInto('users').values({ name: 'a\u0000b' }).execute().catch((e) => e)); // true
 */
export function isPostgresDataException(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && /^22[0-9A-Z]{3}$/.test(code);
}

/**
 * Whether a Postgres error says a value is beyond what it can store: SQLSTATE 54000 (program limit exceeded:
 * an index row or a `jsonb` value too large) or 54001 (statement too complex: `jsonb` nested deeper than
 * `max_stack_depth` allows). Like a data exception, it is the input's fault when the input is what grew.
 *
 * @example
 * isPostgresValueTooLarge(await sql`select ${'['.repeat(1e5) + ']'.repeat(1e5)}::jsonb`.execute(db).catch((e) => e)); // true
 */
export function isPostgresValueTooLarge(error: unknown): boolean {
  const code = codeOf(error);
  return code === '54000' || code === '54001';
}

/**
 * Whether an error means the service could not use Postgres at all: a connection-level failure
 * ({@link isPostgresConnectionError}), rejected credentials (SQLSTATE class 28) or a missing database
 * (3D000). Such an error at start-up is the environment's fault, not the code's.
 *
 * @example
 * if (isPostgresConnectFailure(error)) console.error(describePostgresFailure(url, error));
 */
export function isPostgresConnectFailure(error: unknown): boolean {
  const code = codeOf(error);
  return isPostgresConnectionError(error) || code === '3D000' || (code?.startsWith('28') ?? false);
}

/**
 * One line saying where Postgres is and why it cannot be used, for operators: host, port and database
 * from the URL (never the user or password) and the driver's reason.
 *
 * @example
 * describePostgresFailure('postgres://app:secret@db:5432/applets', error);
 * // 'Postgres at db:5432/applets is unreachable (connect ECONNREFUSED 10.0.0.5:5432)'
 */
export function describePostgresFailure(databaseUrl: string, error: unknown): string {
  let where = '(DATABASE_URL is not a valid URL)';
  try {
    const url = new URL(databaseUrl);
    where = `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    // keep the placeholder: the URL itself may hold a password
  }
  const reason =
    error instanceof AggregateError && error.errors.length > 0
      ? error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ')
      : error instanceof Error
        ? error.message || codeOf(error) || error.name
        : String(error);
  const what = isPostgresConnectionError(error) ? 'is unreachable' : 'refused the connection';
  return `Postgres at ${where} ${what} (${reason.replaceAll(databaseUrl, '[DATABASE_URL]')})`;
}
