import { readFileSync } from 'node:fs';
import { isLocalEnvironment } from '../deploy/environments';
import { isSecretReference, type EnvValue } from '../descriptor/service-descriptor';

/**
 * One setting of a service as `node main.js describe-config` prints it (the platform's `describeConfig`);
 * the bundle target saves `{ service, env: [...] }` as `dist/apps/<svc>/config-schema.json`. A file
 * contract, so the plugin does not import the platform library.
 */
export interface ConfigSettingDescription {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  secret: boolean;
  description?: string;
}

/** The descriptor's env does not satisfy the service's config; the message lists every problem. */
export class ConfigCheckError extends Error {
  override readonly name = 'ConfigCheckError';
}

/** The platform's default graceful-shutdown deadline, used when the config description names none. */
export const FALLBACK_SHUTDOWN_TIMEOUT_MS = 15_000;

/** A cron schedule as the service's code declares it (`listSchedules` in the platform). */
export interface ScheduleDescription {
  name: string;
  cron: string;
  timezone: string;
}

/** The content of `config-schema.json`: what `node main.js describe-config` prints. */
export interface ConfigDescription {
  service: string;
  env: ConfigSettingDescription[];
  /** The names `run-job` knows (absent in descriptions from before it was printed). */
  jobs?: string[];
  schedules?: ScheduleDescription[];
}

function isSetting(value: unknown): value is ConfigSettingDescription {
  const setting = value as Partial<ConfigSettingDescription> | null;
  return typeof setting?.name === 'string' && typeof setting.required === 'boolean';
}

/**
 * Reads `config-schema.json` written by the bundle target (`{ service, env: [...] }`) and returns its
 * settings.
 *
 * @example
 * const settings = readConfigSettings('dist/apps/applets/config-schema.json');
 */
export function readConfigSettings(file: string): ConfigSettingDescription[] {
  return readConfigDescription(file).env;
}

/**
 * Reads the whole `config-schema.json`: settings, `run-job` names and schedules.
 *
 * @example
 * const { env, schedules } = readConfigDescription('dist/apps/trigger-poller/config-schema.json');
 */
export function readConfigDescription(file: string): ConfigDescription {
  let json: Partial<ConfigDescription> | null;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigCheckError(`cannot read the config description ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(json?.env) || !json.env.every(isSetting)) {
    throw new ConfigCheckError(
      `${file} is not describe-config output ({ service, env: [{ name, required, ... }] })`,
    );
  }
  return json as ConfigDescription;
}

/**
 * Checks service.json's scheduled jobs against the code, so a schedule is not silently written twice with
 * different crons: every job must be a name `run-job` knows, and a job that the code also schedules must
 * have the same cron and time zone. Throws one error listing every problem; a description without `jobs`
 * (an older bundle) is not checked.
 *
 * @example
 * checkJobs({ 'enqueue-due-polls': { cron: '* * * * *', timezone: 'UTC' } }, description, 'trigger-poller');
 */
export function checkJobs(
  jobs: Readonly<Record<string, { cron: string; timezone: string }>>,
  description: Pick<ConfigDescription, 'jobs' | 'schedules'>,
  service: string,
): void {
  if (!description.jobs) return;
  const known = new Set(description.jobs);
  const schedules = new Map((description.schedules ?? []).map((s) => [s.name, s]));
  const problems: string[] = [];
  for (const [name, job] of Object.entries(jobs)) {
    const inCode = schedules.get(name);
    if (!known.has(name)) {
      problems.push(
        `job ${name} is not a run-job name of the service (it has: ${[...known].join(', ') || 'none'})`,
      );
    } else if (inCode && (inCode.cron !== job.cron || inCode.timezone !== job.timezone)) {
      problems.push(
        `job ${name} runs "${job.cron}" (${job.timezone}) in service.json but "${inCode.cron}" (${inCode.timezone}) in the code`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ConfigCheckError(
      `${service}: service.json's jobs do not match the code:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

/**
 * Checks an environment's env against the service's settings, before anything is deployed: every required
 * setting needs a value (not empty nor only whitespace, which the service reads as unset) or a secret
 * reference, and a setting marked secret must never carry a plain value outside a local environment
 * (`isLocalEnvironment`: it would sit in git and in Marathon's API; local ones hold development values). Throws one error listing every problem.
 *
 * @example
 * checkConfig(settings, { LOG_LEVEL: 'info' }, { service: 'applets', environment: 'production' });
 * // ConfigCheckError: applets is not deployable to production:
 * //   missing required setting DATABASE_URL (Postgres connection URL): add it to env.production in service.json
 */
export function checkConfig(
  settings: readonly ConfigSettingDescription[],
  env: Readonly<Record<string, EnvValue>>,
  { service, environment }: { service: string; environment: string },
): void {
  const problems: string[] = [];
  for (const setting of settings) {
    // Empty or only whitespace is unset, as the service itself reads it (the platform's parseConfig).
    const given = env[setting.name];
    const value = typeof given === 'string' && given.trim() === '' ? undefined : given;
    const what = setting.description ? `${setting.name} (${setting.description})` : setting.name;
    if (value === undefined && setting.required) {
      const hint = setting.secret ? ` as {"secret": "${setting.name.toLowerCase()}"}` : '';
      problems.push(`missing required setting ${what}: add it to env.${environment} in service.json${hint}`);
    } else if (
      value !== undefined &&
      setting.secret &&
      !isSecretReference(value) &&
      !isLocalEnvironment(environment)
    ) {
      problems.push(`secret setting ${setting.name} has a plain value: use {"secret": "..."} instead`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigCheckError(
      `${service} is not deployable to ${environment}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
}

/**
 * The graceful-shutdown deadline a task gets: the env's `SHUTDOWN_TIMEOUT_MS` if set, else the setting's
 * default from the config description, else 15 s.
 *
 * @example
 * shutdownTimeoutMs([{ name: 'SHUTDOWN_TIMEOUT_MS', type: 'number', required: false, default: 20000, secret: false }], {});
 * // 20000
 */
export function shutdownTimeoutMs(
  settings: readonly ConfigSettingDescription[] | undefined,
  env: Readonly<Record<string, EnvValue>>,
): number {
  const fromEnv = env.SHUTDOWN_TIMEOUT_MS;
  if (typeof fromEnv === 'string' && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  const fromSchema = settings?.find((s) => s.name === 'SHUTDOWN_TIMEOUT_MS')?.default;
  return typeof fromSchema === 'number' ? fromSchema : FALLBACK_SHUTDOWN_TIMEOUT_MS;
}

/**
 * The port a service serves `/metrics` on, when it is not the API port: `METRICS_PORT` from the
 * environment's env, else the setting's default from the config description (the platform's 9464), else
 * `undefined` (a service without the setting, or `METRICS_PORT` 0 or equal to `apiPort`: metrics then live on
 * the API port, behind the platform's `METRICS_TOKEN`).
 *
 * @example
 * metricsPort(settings, { LOG_LEVEL: 'info' }, 3000); // 9464
 */
export function metricsPort(
  settings: readonly ConfigSettingDescription[] | undefined,
  env: Readonly<Record<string, EnvValue>>,
  apiPort: number | undefined,
): number | undefined {
  const fromEnv = env.METRICS_PORT;
  const fromSchema = settings?.find((s) => s.name === 'METRICS_PORT')?.default;
  const port =
    typeof fromEnv === 'string' && /^\d+$/.test(fromEnv)
      ? Number(fromEnv)
      : typeof fromSchema === 'number'
        ? fromSchema
        : undefined;
  return port === undefined || port === 0 || port === apiPort ? undefined : port;
}
