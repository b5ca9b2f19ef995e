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
 * problem, in the schema's key order. The same rules hold for every field of every service, before its
 * zod type sees the value:
 * - a value that is empty or only whitespace counts as unset: the default applies, or `required, not set`
 *   (`FOO=` and `FOO="  "` are what a template leaves behind for "no value");
 * - a value with whitespace at either end is a problem, not trimmed: it is a quoting or copying mistake,
 *   and trimming would silently change a secret or URL from what the operator wrote (and what the other
 *   side holds).
 * The error quotes the offending value, except for secret fields.
 *
 * @example
 * const config = parseConfig(z.object({ ...httpConfig }), { PORT: '8080' }, 'applets'); // { PORT: 8080, ... }
 * parseConfig(z.object({ ...httpConfig }), { PORT: ' 8080' }); // throws: PORT: expected no leading or trailing whitespace
 */
export function parseConfig<S extends ConfigSchema>(schema: S, env: Env, service = 'service'): z.output<S> {
  const keys = Object.keys(schema.shape);
  const input: Record<string, string> = {};
  /** Keys whose value has whitespace at either end: reported as such, not given to the schema. */
  const padded = new Map<string, string>();
  for (const key of keys) {
    const value = env[key];
    if (value === undefined) continue;
    const trimmed = value.trim();
    if (trimmed === '') continue;
    if (trimmed !== value) padded.set(key, value);
    else input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success && padded.size === 0) return result.data;

  const secrets = new Set(secretKeys(schema));
  const problem = (name: string, field: string, message: string): ConfigProblem => {
    const raw = padded.get(field) ?? input[field];
    if (raw === undefined) return { name, message: 'required, not set' };
    if (secrets.has(field)) return { name, message: `${message} (value hidden: secret)` };
    return { name, message: `${message}, got ${JSON.stringify(raw)}` };
  };
  const problems: ConfigProblem[] = [...padded.keys()].map((field) =>
    problem(field, field, 'expected no leading or trailing whitespace'),
  );
  const seen = new Set<string>();
  for (const issue of result.error?.issues ?? []) {
    if (issue.path.length === 0) {
      problems.push({ name: '(config)', message: issue.message }); // a refinement across fields
      continue;
    }
    const field = String(issue.path[0]);
    const name = issue.path.map(String).join('.');
    // Several checks of one field may fail with the same message (an integer field: out of range and unsafe).
    if (padded.has(field) || seen.has(`${name}\0${issue.message}`)) continue;
    seen.add(`${name}\0${issue.message}`);
    problems.push(problem(name, field, issue.message));
  }
  // Fields in schema order; problems of the whole config (a refinement across fields) last.
  const order = (name: string): number => {
    const index = keys.indexOf(name.split('.')[0] ?? name);
    return index === -1 ? keys.length : index;
  };
  problems.sort((a, b) => order(a.name) - order(b.name));
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
