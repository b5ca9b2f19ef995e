import type { z } from 'zod';
import { secretKeys, type ConfigSchema } from './describe-config';

/** Exit code for an invalid configuration (sysexits.h EX_CONFIG). */
export const EX_CONFIG = 78;

/** One problem with one env var; `message` never contains a secret's value. */
export interface ConfigProblem {
  name: string;
  message: string;
}

/**
 * Thrown by {@link parseConfig} with every problem found at once; `message` is the full report, safe to print.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly service: string,
    readonly problems: ConfigProblem[],
  ) {
    const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    const lines = problems.map((problem) => `  - ${problem.name}: ${problem.message}`);
    super(`Invalid configuration for ${service} (${count}):\n${lines.join('\n')}`);
  }
}

/** The environment as read: `process.env` or an explicit object in tests. */
export type Env = Record<string, string | undefined>;

/**
 * Reads the schema's keys from `env` and validates them, throwing a {@link ConfigError} that lists every
 * problem. An empty string counts as unset (so `FOO=` falls back to the default). The error quotes the
 * offending value, except for secret fields.
 *
 * @example
 * const config = parseConfig(z.object({ ...httpConfig }), { PORT: '8080' }, 'applets'); // { PORT: 8080, ... }
 */
export function parseConfig<S extends ConfigSchema>(schema: S, env: Env, service = 'service'): z.output<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const secrets = new Set(secretKeys(schema));
  const problems = result.error.issues.map((issue): ConfigProblem => {
    const name = issue.path.map(String).join('.') || '(config)';
    const raw = input[String(issue.path[0])];
    if (raw === undefined) return { name, message: 'required, not set' };
    if (secrets.has(String(issue.path[0])))
      return { name, message: `${issue.message} (value hidden: secret)` };
    return { name, message: `${issue.message}, got ${JSON.stringify(raw)}` };
  });
  throw new ConfigError(service, problems);
}

/**
 * Loads a service's config from `process.env` (or `env`). When invalid, prints the full report to stderr and
 * exits with code 78 (EX_CONFIG): a misconfigured task then fails fast and visibly instead of half-starting.
 *
 * @example
 * const config = loadConfig(z.object({ ...httpConfig, ...databaseConfig }), { service: 'applets' });
 */
export function loadConfig<S extends ConfigSchema>(
  schema: S,
  { service = 'service', env = process.env }: { service?: string; env?: Env } = {},
): z.output<S> {
  try {
    return parseConfig(schema, env, service);
  } catch (error) {
    if (error instanceof ConfigError) exitOnConfigError(error);
    throw error;
  }
}

/**
 * Prints a config report to stderr and exits 78: the one way an invalid config ends a process (used by
 * {@link loadConfig} and `runService`).
 */
export function exitOnConfigError(error: ConfigError): never {
  process.stderr.write(`${error.message}\n`);
  process.exit(EX_CONFIG);
}

/**
 * A copy of a parsed config with every secret replaced by `[redacted]`, for logging the effective config.
 *
 * @example
 * logger.info({ config: redactConfig(schema, config) }, 'starting');
 */
export function redactConfig<S extends ConfigSchema>(
  schema: S,
  config: z.output<S>,
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  for (const key of secretKeys(schema)) if (copy[key] !== undefined) copy[key] = '[redacted]';
  return copy;
}
