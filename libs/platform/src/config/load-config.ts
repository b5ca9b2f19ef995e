import { readFileSync } from 'node:fs';
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

/** Suffix of the env var that names a file holding a setting's value (`DATABASE_URL_FILE`). */
const FILE_SUFFIX = '_FILE';

/**
 * Removes exactly one line ending (`\n` or `\r\n`) from the end of a file's text: what
 * `echo value | docker secret create name -` (or an editor) adds. Anything more stays, to be reported.
 */
function withoutFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

/**
 * The raw text of each key as the operator gave it: from `env[KEY]`, or read from the file `env[KEY_FILE]`
 * names. Keys whose value cannot be had (both set, an unreadable file, a padded path) get a problem
 * instead. A key with no value (missing or blank) is left out.
 */
function rawValues(
  keys: string[],
  env: Env,
): { values: Map<string, string>; files: Map<string, string>; problems: ConfigProblem[] } {
  const values = new Map<string, string>();
  /** Keys whose value came from a file, and that file's path (named in a problem about the value). */
  const files = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  const blank = (value: string | undefined): value is undefined => value === undefined || value.trim() === '';
  for (const key of keys) {
    const value = env[key];
    const fileKey = `${key}${FILE_SUFFIX}`;
    // A schema that itself has KEY_FILE (a path setting) means that, not this convention.
    const path = keys.includes(fileKey) ? undefined : env[fileKey];
    if (blank(path)) {
      if (!blank(value)) values.set(key, value);
      continue;
    }
    if (!blank(value)) {
      problems.push({ name: key, message: `set either ${key} or ${fileKey}, not both` });
      continue;
    }
    if (path.trim() !== path) {
      problems.push({
        name: fileKey,
        message: `expected no leading or trailing whitespace, got ${JSON.stringify(path)}`,
      });
      continue;
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      // The code only: a message could quote more than the path, and the content is never shown.
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      problems.push({ name: fileKey, message: `cannot read ${JSON.stringify(path)}: ${code}` });
      continue;
    }
    text = withoutFinalNewline(text);
    if (text.trim() === '') continue;
    values.set(key, text);
    files.set(key, path);
  }
  return { values, files, problems };
}

/**
 * Reads the schema's keys from `env` and validates them, throwing a {@link ConfigError} that lists every
 * problem, in the schema's key order. The same rules hold for every field of every service, before its
 * zod type sees the value:
 * - any key may instead be read from a file: `KEY_FILE=/run/secrets/key` (Docker and Swarm secrets; the
 *   convention of the official postgres image's `POSTGRES_PASSWORD_FILE`). The file is read as UTF-8 and
 *   exactly one final `\n` or `\r\n` is removed (what `echo value | docker secret create` leaves); then the
 *   rules below apply to its text. Setting both `KEY` and `KEY_FILE` (neither blank) is a problem, and so is
 *   a file that cannot be read (the report names the path and the error code, such as `ENOENT` or
 *   `EACCES`, never the content);
 * - a value that is empty or only whitespace counts as unset: the default applies, or `required, not set`
 *   (`FOO=` and `FOO="  "` are what a template leaves behind for "no value");
 * - a value with whitespace at either end is a problem, not trimmed: it is a quoting or copying mistake,
 *   and trimming would silently change a secret or URL from what the operator wrote (and what the other
 *   side holds).
 * The error quotes the offending value, except for secret fields (whether the value came from env or a
 * file); a value read from a file is reported with the file's path.
 *
 * @example
 * const config = parseConfig(z.object({ ...httpConfig }), { PORT: '8080' }, 'applets'); // { PORT: 8080, ... }
 * parseConfig(z.object({ ...httpConfig }), { PORT: ' 8080' }); // throws: PORT: expected no leading or trailing whitespace
 * parseConfig(z.object({ ...databaseConfig }), { DATABASE_URL_FILE: '/run/secrets/database-url' }); // reads the file
 */
export function parseConfig<S extends ConfigSchema>(schema: S, env: Env, service = 'service'): z.output<S> {
  const keys = Object.keys(schema.shape);
  const { values, files, problems: sourceProblems } = rawValues(keys, env);
  /** Keys whose value could not be had: their problem is already listed, the schema's would repeat it. */
  const unsourced = new Set(sourceProblems.map((p) => fieldOf(p.name, keys)));
  const input: Record<string, string> = {};
  /** Keys whose value has whitespace at either end: reported as such, not given to the schema. */
  const padded = new Map<string, string>();
  for (const [key, value] of values) {
    if (value.trim() !== value) padded.set(key, value);
    else input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success && padded.size === 0 && sourceProblems.length === 0) return result.data;

  const secrets = new Set(secretKeys(schema));
  const problem = (name: string, field: string, message: string): ConfigProblem => {
    const raw = padded.get(field) ?? input[field];
    if (raw === undefined) return { name, message: 'required, not set' };
    const file = files.has(field) ? ` (read from ${JSON.stringify(files.get(field))})` : '';
    if (secrets.has(field)) return { name, message: `${message} (value hidden: secret)${file}` };
    return { name, message: `${message}, got ${JSON.stringify(raw)}${file}` };
  };
  const problems: ConfigProblem[] = [
    ...sourceProblems,
    ...[...padded.keys()].map((field) => problem(field, field, 'expected no leading or trailing whitespace')),
  ];
  const seen = new Set<string>();
  for (const issue of result.error?.issues ?? []) {
    if (issue.path.length === 0) {
      problems.push({ name: '(config)', message: issue.message }); // a refinement across fields
      continue;
    }
    const field = String(issue.path[0]);
    const name = issue.path.map(String).join('.');
    // Several checks of one field may fail with the same message (an integer field: out of range and unsafe).
    if (padded.has(field) || unsourced.has(field) || seen.has(`${name}\0${issue.message}`)) continue;
    seen.add(`${name}\0${issue.message}`);
    problems.push(problem(name, field, issue.message));
  }
  // Fields in schema order (KEY_FILE where KEY is); problems of the whole config (a refinement across fields) last.
  const order = (name: string): number => {
    const index = keys.indexOf(fieldOf(name, keys));
    return index === -1 ? keys.length : index;
  };
  problems.sort((a, b) => order(a.name) - order(b.name));
  throw new ConfigError(service, problems);
}

/** The schema key a problem's name is about: `PORT` for `PORT`, `PORT_FILE` and `LIST.0`. */
function fieldOf(name: string, keys: string[]): string {
  const field = name.split('.')[0] ?? name;
  if (keys.includes(field) || !field.endsWith(FILE_SUFFIX)) return field;
  return field.slice(0, -FILE_SUFFIX.length);
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
