import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service name, put on every line as `service`. */
  service: string;
  /** pino level; `LOG_LEVEL` from {@link loggingConfig}. */
  level?: LoggerOptions['level'];
  /** Config keys whose values must never be logged (from `secretKeys(schema)`), at the top level or one level down (`config.X`). */
  secretKeys?: readonly string[];
  /**
   * Where lines go. Default: stdout through an asynchronous pino destination (lines written in the same tick
   * share one write; pino flushes it synchronously on exit). Tests pass a stream to read the lines.
   */
  destination?: DestinationStream;
}

/** Header and field names that carry credentials in any service. */
const ALWAYS_REDACTED = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'];

/**
 * The redaction paths for a list of secret keys: the key itself and one level deep, e.g. `config.X`.
 * Exported so tests and other pino instances use the same list.
 *
 * @example
 * redactionPaths(['DATABASE_URL']); // [..., 'DATABASE_URL', '*.DATABASE_URL']
 */
export function redactionPaths(secretKeys: readonly string[]): string[] {
  const paths = secretKeys.flatMap((key) => [key, `*.${key}`]);
  return [...ALWAYS_REDACTED, ...paths];
}

/**
 * A pino JSON logger with the service name on each line and secrets redacted (`[redacted]`).
 *
 * @example
 * const logger = createLogger({ service: 'applets', level: config.LOG_LEVEL, secretKeys: secretKeys(schema) });
 * logger.info({ appletId }, 'applet enabled');
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: redactionPaths(options.secretKeys ?? []), censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(pinoOptions, options.destination ?? pino.destination({ dest: 1, sync: false }));
}
