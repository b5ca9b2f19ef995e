import { Cron } from 'croner';

/** A cron expression that Chronos cannot express: ISO 8601 repeating intervals have one fixed period. */
export class UnsupportedCronError extends Error {
  override readonly name = 'UnsupportedCronError';
}

/**
 * Schedules start at the first run on or after January 1st of this year (midnight in the job's zone), so
 * the output is the same on every build; Chronos skips forward over past repetitions.
 */
export const SCHEDULE_ANCHOR_YEAR = 2026;

const NUMBER = /^\d+$/;
const STEP = /^\*\/(\d+)$/;

function period(cron: string): string {
  const [minute, hour, dayOfMonth, month, dayOfWeek] = cron.trim().split(/\s+/);
  const fail = (why: string): never => {
    throw new UnsupportedCronError(
      `cron "${cron}" has no ISO 8601 repeating equivalent (${why}); supported forms: "*/N * * * *", ` +
        `"M */N * * *", "M * * * *", "M H * * *", "M H * * D"`,
    );
  };
  if (dayOfMonth !== '*' || month !== '*') fail('day-of-month and month must be *');
  const step = (field: string, unit: number): number | undefined => {
    if (field === '*') return 1;
    const n = STEP.exec(field)?.[1];
    if (n === undefined) return undefined;
    if (unit % Number(n) !== 0) fail(`*/${n} does not divide ${unit}, so the gap is not constant`);
    return Number(n);
  };
  const minuteStep = step(minute, 60);
  if (minuteStep !== undefined) {
    if (hour !== '*' || dayOfWeek !== '*') fail('a minute step needs hour and day-of-week *');
    return `PT${minuteStep}M`;
  }
  if (!NUMBER.test(minute)) fail('minute must be a number, * or */N');
  const hourStep = step(hour, 24);
  if (hourStep !== undefined) {
    if (dayOfWeek !== '*') fail('an hour step needs day-of-week *');
    return `PT${hourStep}H`;
  }
  if (!NUMBER.test(hour)) fail('hour must be a number, * or */N');
  if (dayOfWeek === '*') return 'P1D';
  if (!/^[0-7]$/.test(dayOfWeek)) fail('day-of-week must be one day 0-7');
  return 'P1W';
}

/** `2026-01-01T03:00:00+01:00`: the instant written in the job's zone, with that zone's offset then. */
function formatInZone(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  const offset = String(parts.timeZoneName).replace('GMT', '');
  const zulu = offset === '' || offset === '+00:00';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${zulu ? 'Z' : offset}`;
}

/**
 * Converts a five-field cron expression to a Chronos ISO 8601 repeating interval (`R/<start>/<period>`),
 * starting at the first run on or after {@link SCHEDULE_ANCHOR_YEAR} in the job's time zone. Only crons with
 * a constant gap convert; anything else throws {@link UnsupportedCronError} naming the supported forms.
 *
 * @example
 * cronToIso8601('0 *\/6 * * *', 'UTC'); // 'R/2026-01-01T00:00:00Z/PT6H'
 * cronToIso8601('30 3 * * *', 'Europe/Paris'); // 'R/2026-01-01T03:30:00+01:00/P1D'
 */
export function cronToIso8601(cron: string, timeZone: string): string {
  const every = period(cron);
  let first: Date | null;
  try {
    const newYear = new Cron('0 0 1 1 *', { timezone: timeZone }).nextRun(
      new Date(Date.UTC(SCHEDULE_ANCHOR_YEAR - 1, 11, 30)),
    );
    first = newYear && new Cron(cron, { timezone: timeZone }).nextRun(new Date(newYear.getTime() - 1000));
  } catch (error) {
    throw new UnsupportedCronError(`cron "${cron}" (${timeZone}) is not valid: ${(error as Error).message}`);
  }
  if (!first) throw new UnsupportedCronError(`cron "${cron}" never runs`);
  return `R/${formatInZone(first, timeZone)}/${every}`;
}
