import { Command, CommanderError } from 'commander';
import { describeConfig, type ConfigSchema } from '../config/describe-config';
import { ConfigError, exitOnConfigError } from '../config/load-config';
import { resealColumns, type SealedColumn } from '../crypto/rotate-secrets';
import { SecretKeyring } from '../crypto/secret-keyring';
import { ensureDatabase } from '../db/ensure-database';
import { flushLogger } from '../logging/flush-logger';
import { dependencyUnavailable, DependencyUnavailableError } from './dependency-unavailable';
import { migrateService } from './migrate-service';
import { listSchedules, schedulesAsJobs } from '../schedule/schedule-definition';
import { createServiceContext } from './service-context';
import type { ServiceContext, ServiceDefinition } from './service-definition';
import { startService, type ServiceMode } from './start-service';

/** Exit code for a command-line usage error, e.g. an unknown job name (sysexits.h EX_USAGE). */
export const EX_USAGE = 64;

/** Options of {@link runService}; defaults are the real process. */
export interface RunServiceOptions {
  argv?: string[];
  env?: Record<string, string | undefined>;
}

function fail(error: unknown): never {
  if (error instanceof ConfigError) exitOnConfigError(error);
  if (error instanceof DependencyUnavailableError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

/** {@link ensureDatabase}, with Postgres being unreachable told in one line. */
async function createDatabaseIfMissing(service: string, databaseUrl: string): Promise<boolean> {
  try {
    return await ensureDatabase(databaseUrl);
  } catch (error) {
    throw (
      dependencyUnavailable(service, 'cannot create the database', { DATABASE_URL: databaseUrl }, error) ??
      error
    );
  }
}

/** Runs `task` with a context whose components are started, stops them, and exits 0 (1 if `task` threw). */
async function runOnce<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  env: RunServiceOptions['env'],
  task: (ctx: ServiceContext<S, DB>) => Promise<void>,
): Promise<never> {
  let ctx: ServiceContext<S, DB>;
  try {
    ctx = createServiceContext(definition, { env });
    ctx.lifecycle.installFatalErrorHandlers();
    await ctx.lifecycle.start();
  } catch (error) {
    fail(error);
  }
  let code = 0;
  try {
    await task(ctx);
  } catch (error) {
    if (error instanceof DependencyUnavailableError) process.stderr.write(`${error.message}\n`);
    else ctx.logger.error({ err: error }, 'command failed');
    code = 1;
  }
  await ctx.lifecycle.stop({ drain: false });
  await flushLogger(ctx.logger);
  process.exit(code);
}

async function serve<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  env: RunServiceOptions['env'],
  mode: ServiceMode,
): Promise<void> {
  // Signals are caught from the first moment, not only once started: without a listener, Node's default
  // action would kill the process mid-start (exit 143), even after the server has said it is listening.
  // The first is held until the service has started, then shuts it down gracefully; a second exits 1 at once.
  let held: NodeJS.Signals | undefined;
  const hold = (signal: NodeJS.Signals): void => {
    if (held) process.exit(1);
    held = signal;
  };
  process.on('SIGTERM', hold);
  process.on('SIGINT', hold);
  try {
    const service = await startService(definition, { env, mode });
    // The lifecycle's handlers go on before the holding ones come off: a signal must never find no listener
    // (Node then restores the default action, which kills the process), not even between two statements.
    service.ctx.lifecycle.installSignalHandlers();
    process.off('SIGTERM', hold);
    process.off('SIGINT', hold);
    if (held) service.ctx.lifecycle.handleSignal(held);
  } catch (error) {
    fail(dependencyUnavailable(definition.name, 'cannot start', env ?? {}, error) ?? error);
  }
}

/**
 * The entry point of every service (`src/main.ts`): a CLI with `serve` (default), `worker`, `migrate`
 * (`--create-database` in development), `run-job <name>` and `describe-config`. Exit codes: 0 ok, 1 failure, 64 usage error (unknown command or
 * job), 78 invalid config (the report on stderr, secrets hidden).
 *
 * @example
 * // apps/applets/src/main.ts
 * runService({ name: 'applets', config: configSchema, migrations, web: (ctx) => buildApp(ctx), jobs: {} });
 */
export function runService<S extends ConfigSchema, DB = unknown>(
  definition: ServiceDefinition<S, DB>,
  options: RunServiceOptions = {},
): void {
  const env = options.env ?? process.env;
  const jobs = {
    ...schedulesAsJobs(definition.schedules ?? []),
    ...rotateSecretsJob<S, DB>(definition.sealedColumns),
    ...definition.jobs,
  };
  const program = new Command(definition.name)
    .description(`${definition.name} service`)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('serve', { isDefault: true })
    .description('run migrations (unless MIGRATE_ON_START=false) and serve HTTP on PORT')
    .action(() => serve(definition, env, 'serve'));
  program
    .command('worker')
    .description('run the background worker (health and metrics on PORT)')
    .action(() => serve(definition, env, 'worker'));
  program
    .command('migrate')
    .description('apply pending migrations and exit')
    .option(
      '--create-database',
      'first create the database named in DATABASE_URL if it is missing (development; deployed databases are provisioned)',
    )
    .action((opts: { createDatabase?: boolean }) =>
      runOnce(definition, env, async (ctx) => {
        if (opts.createDatabase && (await createDatabaseIfMissing(definition.name, env.DATABASE_URL ?? ''))) {
          ctx.logger.info('created the database of DATABASE_URL');
        }
        await migrateService(definition, ctx);
      }),
    );
  program
    .command('run-job')
    .argument('<name>', `one of: ${Object.keys(jobs).join(', ') || '(none)'}`)
    .description('run one named job once and exit')
    .action((name: string) => {
      const job = Object.hasOwn(jobs, name) ? jobs[name] : undefined;
      if (!job) {
        process.stderr.write(
          `unknown job "${name}"; known jobs: ${Object.keys(jobs).join(', ') || '(none)'}\n`,
        );
        process.exit(EX_USAGE);
      }
      return runOnce(definition, env, job);
    });
  program
    .command('describe-config')
    .description(
      'print the config schema (env vars, types, defaults, secrets), run-job names and schedules as JSON; reads no env',
    )
    .action(() => {
      process.stdout.write(
        `${JSON.stringify(
          {
            service: definition.name,
            env: describeConfig(definition.config),
            jobs: Object.keys(jobs).sort(),
            schedules: listSchedules(definition.schedules ?? []),
          },
          null,
          2,
        )}\n`,
      );
    });

  program.parseAsync(options.argv ?? process.argv).catch((error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EX_USAGE);
    fail(error);
  });
}

/**
 * `rotate-secrets` for a service with `sealedColumns`: seals every value of those columns again under the
 * first key of SECRETS_KEYS (platform README "Security").
 */
function rotateSecretsJob<S extends ConfigSchema, DB>(
  columns: readonly SealedColumn[] | undefined,
): Record<string, (ctx: ServiceContext<S, DB>) => Promise<void>> {
  if (!columns?.length) return {};
  return {
    'rotate-secrets': async (ctx) => {
      const { SECRETS_KEYS } = ctx.config as { SECRETS_KEYS?: string };
      if (SECRETS_KEYS === undefined) throw new Error('rotate-secrets needs SECRETS_KEYS (secretsConfig)');
      await resealColumns(ctx.db, SecretKeyring.fromSetting(SECRETS_KEYS), columns, { logger: ctx.logger });
    },
  };
}
