import { Command, CommanderError } from 'commander';
import { Redis } from 'ioredis';
import { DEFAULT_EVENTS_PREFIX } from '../events/event-keys';
import { eventsCommand, EventsUsageError } from '../events/events-cli';
import { JobQueue } from './job-queue';
import { isJobId } from './job-ids';
import { DEFAULT_JOBS_PREFIX } from './queue-keys';

/** Where {@link runJobsCli} reads settings and writes output; the real process by default. */
export interface JobsCliIo {
  env?: Record<string, string | undefined>;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/**
 * The operators' CLI for queues: `stats`, `dead list|retry|purge`, and for service events
 * `events dead list|retry|purge --topic <t> --subscription <s>`. Reads REDIS_URL (default
 * redis://127.0.0.1:6379), JOBS_PREFIX (default `ittd:jobs:`) and EVENTS_PREFIX (default `ittd:events:`). Returns the exit code: 0 ok, 1 failure
 * (the reason on stderr), 64 usage error.
 *
 * @example
 * // npm run jobs -- dead list --queue partner-acme
 * process.exitCode = await runJobsCli(process.argv.slice(2));
 */
export async function runJobsCli(args: readonly string[], io: JobsCliIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((text: string) => process.stdout.write(text));
  const err = io.err ?? ((text: string) => process.stderr.write(text));
  let redis: Redis | undefined;
  // Empty or only whitespace counts as unset, as for every service setting (parseConfig).
  const setting = (name: string): string | undefined => (env[name]?.trim() ? env[name] : undefined);
  const connection = (): Redis => {
    if (!redis) {
      redis = new Redis(setting('REDIS_URL') ?? 'redis://127.0.0.1:6379', {
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => (times > 2 ? null : 200),
      });
      redis.on('error', () => undefined); // reported by the failing command
    }
    return redis;
  };
  const queue = (): JobQueue =>
    new JobQueue({ redis: connection(), prefix: setting('JOBS_PREFIX') ?? DEFAULT_JOBS_PREFIX });
  const print = (value: unknown): void => out(`${JSON.stringify(value, null, 2)}\n`);

  const program = new Command('jobs')
    .description('inspect queues and manage dead-lettered jobs (REDIS_URL, JOBS_PREFIX)')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  program
    .command('stats')
    .description('jobs per queue: ready, delayed, leased (running), dead')
    .option('-q, --queue <name...>', 'queues (default: every known queue)')
    .action(async (opts: { queue?: string[] }) => print(await queue().stats(opts.queue)));

  const dead = program.command('dead').description('dead-lettered jobs: payload, error and attempt history');
  dead
    .command('list')
    .requiredOption('-q, --queue <name>', 'queue')
    .option('--limit <n>', 'how many', '50')
    .option('--offset <n>', 'skip the oldest n', '0')
    .action(async (opts: { queue: string; limit: string; offset: string }) =>
      print(await queue().listDead(opts.queue, { limit: count(opts.limit), offset: count(opts.offset) })),
    );
  dead
    .command('retry')
    .argument('[ids...]', 'job ids to retry')
    .requiredOption('-q, --queue <name>', 'queue')
    .option('--all', 'retry every dead job of the queue')
    .action(async (ids: string[], opts: { queue: string; all?: boolean }) => {
      const moved = await queue().retryDead(opts.queue, selection(ids, opts.all));
      print({ queue: opts.queue, retried: moved });
    });
  dead
    .command('purge')
    .argument('[ids...]', 'job ids to delete')
    .requiredOption('-q, --queue <name>', 'queue')
    .option('--all', 'delete every dead job of the queue')
    .action(async (ids: string[], opts: { queue: string; all?: boolean }) => {
      const purged = await queue().purgeDead(opts.queue, selection(ids, opts.all));
      print({ queue: opts.queue, purged });
    });

  // Dead-lettered events of service-event subscriptions, on the same connection (`events dead list ...`).
  program.addCommand(
    eventsCommand(connection, setting('EVENTS_PREFIX') ?? DEFAULT_EVENTS_PREFIX, print).configureOutput({
      writeOut: out,
      writeErr: err,
    }),
  );

  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 64;
    if (error instanceof UsageError || error instanceof EventsUsageError) {
      err(`${error.message}\n`);
      return 64;
    }
    err(`jobs: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    redis?.disconnect();
  }
}

class UsageError extends Error {}

function selection(ids: string[], all: boolean | undefined): string[] | 'all' {
  if (all && ids.length > 0) throw new UsageError('give job ids or --all, not both');
  if (!all && ids.length === 0) throw new UsageError('give job ids or --all');
  if (ids.some((id) => !isJobId(id))) throw new UsageError('job ids are UUIDs (as listed by dead list)');
  return all ? 'all' : ids;
}

/** Plain decimal digits only: Number() would also read '' as 0, 0x10 as 16 and 1e3 as 1000. */
function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`expected a non-negative integer, got "${value}"`);
  return n;
}
