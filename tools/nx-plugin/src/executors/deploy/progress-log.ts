/** Writes one progress line: `<ISO time> <subject>: <message>`. */
export type ProgressLog = (subject: string, message: string) => void;

/**
 * A progress log that stamps every line with the time, so a slow rollout shows where the time went.
 * Several services deploying in parallel stay readable because each line names its subject.
 *
 * @example
 * const log = createProgressLog((line) => console.info(line));
 * log('applets/web', 'deployment 5ed4c0c5 finished'); // 2026-01-01T10:00:00.000Z applets/web: deployment ...
 */
export function createProgressLog(
  write: (line: string) => void,
  now: () => Date = () => new Date(),
): ProgressLog {
  return (subject, message) => write(`${now().toISOString()} ${subject}: ${message}`);
}
