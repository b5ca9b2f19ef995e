/**
 * The pino methods the job system uses, so any pino-like logger fits (a pino `Logger` does).
 *
 * @example
 * const jobs = new JobQueue({ redis, logger: pino() });
 */
export interface JobLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
