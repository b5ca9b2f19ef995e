/**
 * The scheduler that replaces cron on every box. Every replica runs it; each tick fires once in total.
 *
 * Guarantees (also in ../jobs/README.md):
 * - Once per tick across replicas: when a tick comes, each replica tries to claim it with one atomic Redis
 *   step on the schedule's key (`<prefix>{schedule:<name>}:last`): "if this tick is later than the last claimed
 *   tick, record it and win". Exactly one replica wins; the key survives restarts, so a replica that restarts
 *   (even within the same second) cannot fire a tick again. Replicas with skewed clocks agree because the tick
 *   is the cron time, not the replica's clock.
 * - At most once per tick: the winner runs the handler in-process; if it dies mid-run that tick is not retried.
 *   Work that must not be lost should be enqueued as a job from the handler (use a `uniqueKey` per tick).
 * - A replica still running a schedule's previous run does not claim its next tick, so another replica takes
 *   it; if all are busy that tick is skipped (logged and counted).
 * - Missed ticks (everything down): per schedule `missed: 'run-once'` (default) runs the most recent missed
 *   tick once at start-up (claimed like any tick, so once across replicas), `skip` drops them. Never one run
 *   per missed tick.
 */
import { Cron } from 'croner';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { JobLogger } from '../jobs/job-logger';
import { RedisScript } from '../jobs/redis-script';
import type { ScheduleDefinition } from './schedule-definition';

/**
 * Claims a tick: ARGV[1] tick ms; 1 if it is later than the last claimed tick (and is now the last). A stored
 * value that is not a number (or not a string) counts as "never claimed" and is overwritten: the script never
 * fails on it, which would stop the schedule for good.
 */
const claimTickScript = new RedisScript(`
local stored = false
if redis.call('TYPE', KEYS[1])['ok'] == 'string' then stored = redis.call('GET', KEYS[1]) end
local last = tonumber(stored or '-1') or -1
local tick = tonumber(ARGV[1])
if tick > last then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
`);

/** Default key prefix of schedule state. */
export const DEFAULT_SCHEDULE_PREFIX = 'ittd:schedules:';

/** Options of {@link Scheduler}. */
export interface SchedulerOptions<C> {
  redis: Redis;
  schedules: readonly ScheduleDefinition<C>[];
  /** Passed to every handler (the service context). */
  context: C;
  /** Key prefix; default `ittd:schedules:`. */
  prefix?: string;
  logger?: JobLogger;
  /** Where `schedule_runs_total` and `schedule_last_success_timestamp_seconds` go. */
  registry?: Registry;
  /** How long `stop()` waits for running handlers before aborting their signal. Default 10,000 ms. */
  shutdownTimeoutMs?: number;
}

interface ScheduleMetrics {
  runs: Counter<'schedule' | 'outcome'>;
  lastSuccess: Gauge<'schedule'>;
}

const metricsByRegistry = new WeakMap<Registry, ScheduleMetrics>();

function scheduleMetrics(registry: Registry): ScheduleMetrics {
  let metrics = metricsByRegistry.get(registry);
  if (!metrics) {
    metrics = {
      runs: new Counter({
        name: 'schedule_runs_total',
        help: 'Scheduled runs by outcome: success, failure, skipped (this replica was still running the last one).',
        labelNames: ['schedule', 'outcome'] as const,
        registers: [registry],
      }),
      lastSuccess: new Gauge({
        name: 'schedule_last_success_timestamp_seconds',
        help: 'When a schedule last succeeded on this replica (alert on staleness).',
        labelNames: ['schedule'] as const,
        registers: [registry],
      }),
    };
    metricsByRegistry.set(registry, metrics);
  }
  return metrics;
}

/** Longest single timer; longer waits are re-planned (setTimeout overflows past 2^31 ms). */
const MAX_TIMER_MS = 60 * 60 * 1000;

/**
 * Fires schedules once per tick across any number of replicas. A lifecycle component.
 *
 * @example
 * const scheduler = new Scheduler({ redis: ctx.redis, schedules, context: ctx, logger: ctx.logger, registry: ctx.metrics });
 * ctx.lifecycle.register(scheduler);
 */
export class Scheduler<C> {
  readonly name = 'scheduler';
  private readonly prefix: string;
  private readonly metrics: ScheduleMetrics | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, { done: Promise<void>; controller: AbortController }>();
  private stopping = false;

  constructor(private readonly options: SchedulerOptions<C>) {
    this.prefix = options.prefix ?? DEFAULT_SCHEDULE_PREFIX;
    this.metrics = options.registry ? scheduleMetrics(options.registry) : undefined;
    const names = new Set<string>();
    for (const { name } of options.schedules) {
      if (names.has(name)) throw new Error(`schedule "${name}" is declared twice`);
      names.add(name);
    }
  }

  /** Applies each schedule's missed-tick policy, then plans its next tick. */
  async start(): Promise<void> {
    this.stopping = false;
    for (const definition of this.options.schedules) {
      const cron = new Cron(definition.cron, { timezone: definition.timezone, paused: true });
      if (definition.missed === 'run-once') await this.catchUp(definition, cron);
      this.plan(definition, cron, new Date());
    }
  }

  /** Stops planning ticks; waits for running handlers up to the deadline, then aborts their signal. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const runs = [...this.running.values()];
    const deadline = this.options.shutdownTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), deadline)),
    );
    const outcome = await Promise.race([Promise.all(runs.map((r) => r.done)), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const run of runs) run.controller.abort(new Error('scheduler stopping'));
      this.options.logger?.warn(
        { running: [...this.running.keys()] },
        'scheduled runs still running at shutdown',
      );
    }
  }

  /** Key holding the last claimed tick of a schedule (hash-tagged per schedule). */
  lastTickKey(name: string): string {
    return `${this.prefix}{schedule:${name}}:last`;
  }

  private async catchUp(definition: ScheduleDefinition<C>, cron: Cron): Promise<void> {
    const last = await this.options.redis.get(this.lastTickKey(definition.name)).catch((error: unknown) => {
      // A key of another type (written by hand) tells nothing; the next claim overwrites it.
      if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return null;
      throw error;
    });
    // Never ran anywhere, or the value is unreadable: nothing known to be missed.
    if (last === null || !Number.isFinite(Number(last))) return;
    const [previous] = cron.previousRuns(1, new Date());
    if (previous && previous.getTime() > Number(last)) {
      this.options.logger?.info(
        {
          schedule: definition.name,
          tick: previous.toISOString(),
          lastRun: new Date(Number(last)).toISOString(),
        },
        'ticks were missed while no replica ran; running the latest once',
      );
      await this.fire(definition, previous, true);
    }
  }

  private plan(definition: ScheduleDefinition<C>, cron: Cron, after: Date): void {
    if (this.stopping) return;
    const next = cron.nextRun(after);
    if (!next) return; // the expression has no future run
    const wait = next.getTime() - Date.now();
    const timer = setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) return this.plan(definition, cron, after);
        void this.fire(definition, next, false);
        // Plan from the tick itself, not the clock, so a timer that fires early cannot repeat the tick.
        this.plan(definition, cron, new Date(Math.max(Date.now(), next.getTime())));
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
    this.timers.set(definition.name, timer);
  }

  /** Claims the tick and, if this replica won, starts the handler (resolves once started, not finished). */
  private async fire(definition: ScheduleDefinition<C>, tick: Date, catchUp: boolean): Promise<void> {
    const { name } = definition;
    if (this.running.has(name)) {
      this.metrics?.runs.labels(name, 'skipped').inc();
      this.options.logger?.warn(
        { schedule: name, tick: tick.toISOString() },
        'previous run still going; not claiming tick',
      );
      return;
    }
    let claimed: boolean;
    try {
      claimed =
        (await claimTickScript.run(this.options.redis, [this.lastTickKey(name)], [tick.getTime()])) === 1;
    } catch (error) {
      this.options.logger?.error({ schedule: name, err: error }, 'could not claim tick (Redis unavailable)');
      return;
    }
    if (!claimed || this.stopping) return;
    const controller = new AbortController();
    const done = (async () => {
      try {
        await definition.handler(this.options.context, { name, tick, catchUp, signal: controller.signal });
        this.metrics?.runs.labels(name, 'success').inc();
        this.metrics?.lastSuccess.labels(name).set(Date.now() / 1000);
      } catch (error) {
        this.metrics?.runs.labels(name, 'failure').inc();
        this.options.logger?.error(
          { schedule: name, tick: tick.toISOString(), err: error },
          'scheduled run failed',
        );
      } finally {
        this.running.delete(name);
      }
    })();
    this.running.set(name, { done, controller });
  }
}
