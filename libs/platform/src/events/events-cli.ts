import { Command, CommanderError } from 'commander';
import { Redis } from 'ioredis';
import { DeadLetters } from './dead-letters';
import { DEFAULT_EVENTS_PREFIX } from './event-keys';

/** Where {@link runEventsCli} reads settings and writes output; the real process by default. */
export interface EventsCliIo {
  env?: Record<string, string | undefined>;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** A refused command line (exit code 64). */
export class EventsUsageError extends Error {}

/**
 * The `events` command of the operators' CLI: `events dead list|retry|purge --topic <t> --subscription <s>`.
 * Mount it in another commander program (the jobs CLI: `program.addCommand(eventsCommand(redis, prefix, print))`)
 * or run it alone with {@link runEventsCli}. `redis` is called lazily, once a command runs.
 *
 * @example
 * program.addCommand(eventsCommand(() => redis, process.env.EVENTS_PREFIX ?? DEFAULT_EVENTS_PREFIX, print));
 */
export function eventsCommand(redis: () => Redis, prefix: string, print: (value: unknown) => void): Command {
  const events = new Command('events').description(
    'dead-lettered events of a subscription (REDIS_URL, EVENTS_PREFIX)',
  );
  const dead = events
    .command('dead')
    .description('events a subscription gave up on: payload, error, deliveries');
  const letters = (opts: { topic: string; subscription: string }) =>
    new DeadLetters(redis(), opts.topic, opts.subscription, prefix);
  const target = (command: Command) =>
    command
      .requiredOption('-t, --topic <name>', 'topic')
      .requiredOption('-s, --subscription <name>', 'subscription');
  target(dead.command('list'))
    .option('--limit <n>', 'how many (at most 1000)', '50')
    .option('--after <id>', 'start after this dead-letter id')
    .action(async (opts: { topic: string; subscription: string; limit: string; after?: string }) =>
      print(await letters(opts).list({ limit: count(opts.limit), after: opts.after })),
    );
  target(dead.command('retry').argument('[ids...]', 'dead-letter ids'))
    .option('--all', 'every dead letter of the subscription')
    .action(async (ids: string[], opts: { topic: string; subscription: string; all?: boolean }) =>
      print({ ...pick(opts), retried: await letters(opts).retry(selection(ids, opts.all)) }),
    );
  target(dead.command('purge').argument('[ids...]', 'dead-letter ids'))
    .option('--all', 'every dead letter of the subscription')
    .action(async (ids: string[], opts: { topic: string; subscription: string; all?: boolean }) =>
      print({ ...pick(opts), purged: await letters(opts).purge(selection(ids, opts.all)) }),
    );
  return events;
}

/**
 * Runs the `events` command alone (`events dead list ...`). Reads REDIS_URL (default redis://127.0.0.1:6379)
 * and EVENTS_PREFIX (default `ittd:events:`). Returns the exit code: 0 ok, 1 failure (reason on stderr),
 * 64 usage error.
 *
 * @example
 * process.exitCode = await runEventsCli(['events', 'dead', 'list', '-t', 'applet.saved', '-s', 'actions']);
 */
export async function runEventsCli(args: readonly string[], io: EventsCliIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((text: string) => process.stdout.write(text));
  const err = io.err ?? ((text: string) => process.stderr.write(text));
  const setting = (name: string): string | undefined => (env[name]?.trim() ? env[name] : undefined);
  let client: Redis | undefined;
  const redis = (): Redis => {
    if (!client) {
      client = new Redis(setting('REDIS_URL') ?? 'redis://127.0.0.1:6379', {
        maxRetriesPerRequest: 1,
        retryStrategy: (times) => (times > 2 ? null : 200),
      });
      client.on('error', () => undefined); // reported by the failing command
    }
    return client;
  };
  const print = (value: unknown): void => out(`${JSON.stringify(value, null, 2)}\n`);
  const program = new Command('ittd').exitOverride().configureOutput({ writeOut: out, writeErr: err });
  program.addCommand(eventsCommand(redis, setting('EVENTS_PREFIX') ?? DEFAULT_EVENTS_PREFIX, print));
  const exitOverride = (command: Command): void => {
    command.exitOverride().configureOutput({ writeOut: out, writeErr: err });
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 64;
    if (error instanceof EventsUsageError) {
      err(`${error.message}\n`);
      return 64;
    }
    err(`events: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    client?.disconnect();
  }
}

function pick(opts: { topic: string; subscription: string }) {
  return { topic: opts.topic, subscription: opts.subscription };
}

function selection(ids: string[], all: boolean | undefined): string[] | 'all' {
  if (all && ids.length > 0) throw new EventsUsageError('give dead-letter ids or --all, not both');
  if (!all && ids.length === 0) throw new EventsUsageError('give dead-letter ids or --all');
  if (ids.some((id) => !/^\d+-\d+$/.test(id)))
    throw new EventsUsageError('dead-letter ids look like 1700000000000-0');
  return all ? 'all' : ids;
}

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new EventsUsageError(`expected a non-negative integer, got "${value}"`);
  return n;
}
