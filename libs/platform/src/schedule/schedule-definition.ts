import { Cron } from 'croner';
import { assertName } from '../jobs/job-definition';

/** What a scheduled handler gets besides the service context. */
export interface ScheduleRun {
  /** Schedule name. */
  readonly name: string;
  /** The tick this run is for (its cron time), or the time of a manual `run-job`. */
  readonly tick: Date;
  /** True when this run makes up for ticks missed while every replica was down. */
  readonly catchUp: boolean;
  /** Aborted when the scheduler stops past its shutdown deadline. */
  readonly signal: AbortSignal;
}

/**
 * What happens to ticks that passed while no replica was running (deploy gap, outage):
 * - `run-once` (default): on start, the most recent missed tick runs once (never one run per missed tick);
 * - `skip`: missed ticks are dropped; the next run is the next tick.
 */
export type MissedTickPolicy = 'run-once' | 'skip';

/** Options of {@link schedule}. */
export interface ScheduleOptions {
  /** IANA time zone the cron expression is read in. Default `UTC`. */
  timezone?: string;
  /** One line for operators and deploy tooling. */
  description?: string;
  /** Policy for ticks missed while everything was down. Default `run-once`. */
  missed?: MissedTickPolicy;
}

/**
 * A declared schedule. `handler` is a method so schedules with different context types can share an array;
 * `C` is what the scheduler passes (a service's `ServiceContext`).
 */
export interface ScheduleDefinition<C = void> {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly description: string;
  readonly missed: MissedTickPolicy;
  handler(context: C, run: ScheduleRun): Promise<void>;
}

/** What deploy tooling needs to export a schedule as a Chronos or Metronome job running `run-job <name>`. */
export interface ScheduleListing {
  name: string;
  cron: string;
  timezone: string;
  description: string;
}

/**
 * Declares a cron schedule (croner syntax: 5 fields, or 6 with seconds first). The scheduler fires each tick
 * once across every replica; the same declaration is runnable by name (`run-job <name>`) and listable for
 * deploy tooling. The expression and time zone are checked here, so a typo fails at start-up, not at 3 am.
 *
 * @example
 * export const purgeDisabled = schedule<ServiceContext>(
 *   'purge-disabled-applets', '0 3 * * *',
 *   async (ctx, { signal }) => { await purgeDisabledApplets(ctx.db, { signal }); },
 *   { timezone: 'Europe/Paris', description: 'Delete applets disabled for 30 days' },
 * );
 */
export function schedule<C = void>(
  name: string,
  cron: string,
  handler: (context: C, run: ScheduleRun) => Promise<void>,
  options: ScheduleOptions = {},
): ScheduleDefinition<C> {
  assertName('schedule', name);
  const timezone = options.timezone ?? 'UTC';
  try {
    new Cron(cron, { timezone, paused: true }).nextRun();
  } catch (error) {
    throw new Error(`schedule "${name}": invalid cron "${cron}" or timezone "${timezone}": ${String(error)}`);
  }
  return Object.freeze({
    name,
    cron,
    timezone,
    description: options.description ?? '',
    missed: options.missed ?? 'run-once',
    handler,
  });
}

/**
 * The schedules as plain data, for deploy tooling (Chronos / Metronome export). Pure: no Redis, no clock.
 * Throws if two schedules share a name (one `run-job` name must mean one thing).
 *
 * @example
 * listSchedules([purgeDisabled]);
 * // [{ name: 'purge-disabled-applets', cron: '0 3 * * *', timezone: 'Europe/Paris', description: '...' }]
 */
export function listSchedules(schedules: readonly ScheduleDefinition<never>[]): ScheduleListing[] {
  assertUniqueNames(schedules);
  return schedules.map(({ name, cron, timezone, description }) => ({ name, cron, timezone, description }));
}

/**
 * The schedules as a `run-job` record (`ServiceDefinition.jobs`): `run-job <name>` runs the handler once, now,
 * with the service context, and the process exits 0 or 1. This is the command a Chronos or Metronome job runs.
 *
 * @example
 * runService({ ..., jobs: { ...schedulesAsJobs(schedules) } });
 */
export function schedulesAsJobs<C>(
  schedules: readonly ScheduleDefinition<C>[],
): Record<string, (context: C) => Promise<void>> {
  assertUniqueNames(schedules);
  return Object.fromEntries(
    schedules.map((s) => [
      s.name,
      (context: C) =>
        s.handler(context, {
          name: s.name,
          tick: new Date(),
          catchUp: false,
          signal: new AbortController().signal,
        }),
    ]),
  );
}

function assertUniqueNames(schedules: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const { name } of schedules) {
    if (seen.has(name)) throw new Error(`schedule "${name}" is declared twice`);
    seen.add(name);
  }
}
