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

/** The live state of one deployment while it runs. */
export interface DeploymentProgress {
  /** e.g. `2/3 healthy (1 staged)`. */
  health: string;
  /** e.g. `step 1/1 RestartApplication`. */
  step: string;
  elapsedMs: number;
}

/** Shows the live state of a deployment: {@link createLiveProgress}. */
export interface LiveProgress {
  /** The state now; shown at once in a terminal, as a line when it changed in CI. */
  update(subject: string, progress: DeploymentProgress): void;
  /** A normal progress line (ends the updating line first in a terminal). */
  log: ProgressLog;
}

/**
 * Progress while waiting: in a terminal (`tty`), one line rewritten in place (`\r` + erase line); in CI
 * (no TTY, logs collected), a plain timestamped line each time the health or the step changes (not for
 * every poll, so a ten-minute rollout stays a short log).
 *
 * @example
 * const progress = createLiveProgress({ tty: Boolean(process.stdout.isTTY), write: (s) => process.stdout.write(s) });
 * progress.update('applets/web', { health: '2/3 healthy', step: 'step 1/1 RestartApplication', elapsedMs: 4200 });
 * // CI: 2026-01-01T10:00:04.200Z applets/web: 2/3 healthy, step 1/1 RestartApplication, 4.2 s
 */
export function createLiveProgress({
  tty,
  write,
  now = () => new Date(),
}: {
  tty: boolean;
  /** Raw output: lines come with their `\n`. */
  write: (text: string) => void;
  now?: () => Date;
}): LiveProgress {
  const last = new Map<string, string>();
  let open = false;
  const endLine = () => {
    if (open) write('\n');
    open = false;
  };
  return {
    update(subject, { health, step, elapsedMs }) {
      const state = `${health}, ${step}`;
      const text = `${subject}: ${state}, ${(elapsedMs / 1000).toFixed(1)} s`;
      if (tty) {
        write(`\r\u001b[2K${text}`);
        open = true;
      } else if (last.get(subject) !== state) {
        write(`${now().toISOString()} ${text}\n`);
      }
      last.set(subject, state);
    },
    log(subject, message) {
      endLine();
      write(`${now().toISOString()} ${subject}: ${message}\n`);
    },
  };
}
