import { Cron } from 'croner';
import { shutdownTimeoutMs } from '../config/config-settings';
import {
  DESCRIPTOR_DEFAULTS,
  resolveEnv,
  resolveResources,
  type JobSpec,
  type Resources,
  type ServiceDescriptor,
} from '../descriptor/service-descriptor';
import type { DeployContext } from './deploy-context';
import { KILL_GRACE_MARGIN_SECONDS } from './process-inputs';

/** How many upcoming runs are sampled to find a job's period (covers hourly/daily/weekly patterns). */
const PERIOD_SAMPLE_RUNS = 8;

function shortestGapSeconds(runs: Date[]): number {
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i += 1) {
    shortest = Math.min(shortest, (runs[i].getTime() - runs[i - 1].getTime()) / 1000);
  }
  return Number.isFinite(shortest) ? Math.max(1, Math.floor(shortest)) : Number.POSITIVE_INFINITY;
}

/** Everything the Chronos and Metronome forms of a job share, resolved from the descriptor. */
export interface ResolvedJob {
  name: string;
  spec: JobSpec;
  timezone: string;
  resources: Resources;
  /** The arguments of `node main.js` that run the job. */
  args: string[];
  taskKillGracePeriodSeconds: number;
  /** The shortest gap between two of the next runs: deadlines of one run must not reach into the next. */
  periodSeconds: number;
}

/**
 * Looks a job up, checks its cron and time zone, and fills its defaults; throws naming the jobs the
 * descriptor has when it is unknown.
 *
 * @example
 * resolveJob(descriptor, 'purge-tokens', context).args; // ['run-job', 'purge-tokens']
 */
export function resolveJob(descriptor: ServiceDescriptor, name: string, context: DeployContext): ResolvedJob {
  const spec = descriptor.jobs?.[name];
  if (!spec) {
    const known = Object.keys(descriptor.jobs ?? {}).join(', ') || 'none';
    throw new Error(`${context.service} has no scheduled job "${name}" (has: ${known})`);
  }
  const timezone = spec.timezone ?? DESCRIPTOR_DEFAULTS.timezone;
  let runs: Date[];
  try {
    runs = new Cron(spec.cron, { timezone, paused: true }).nextRuns(PERIOD_SAMPLE_RUNS);
  } catch (error) {
    throw new Error(
      `job ${context.service}/${name}: cron "${spec.cron}" (${timezone}) is not valid: ${(error as Error).message}`,
    );
  }
  const env = resolveEnv(descriptor, context.environment);
  return {
    name,
    spec,
    timezone,
    resources: resolveResources(spec.resources),
    args: ['run-job', name],
    periodSeconds: shortestGapSeconds(runs),
    taskKillGracePeriodSeconds:
      Math.ceil(shutdownTimeoutMs(context.configSchema, env) / 1000) + KILL_GRACE_MARGIN_SECONDS,
  };
}
