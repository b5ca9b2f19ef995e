import { resolveEnv, type ServiceDescriptor } from '../descriptor/service-descriptor';
import { deployLabels, type DeployContext } from './deploy-context';
import { toMesosEnv, type MesosEnvValue } from './mesos-env';
import { resolveJob } from './scheduled-job';

/** A Metronome job with its schedule embedded, as `POST /v1/jobs` takes it. */
export interface MetronomeJob {
  id: string;
  description: string;
  labels: Record<string, string>;
  run: {
    args: string[];
    cpus: number;
    mem: number;
    disk: number;
    docker: { image: string; forcePullImage: boolean };
    env: Record<string, MesosEnvValue>;
    secrets?: Record<string, { source: string }>;
    restart: { policy: 'ON_FAILURE'; activeDeadlineSeconds: number };
    maxLaunchDelay: number;
    taskKillGracePeriodSeconds: number;
  };
  schedules: {
    id: string;
    cron: string;
    timezone: string;
    concurrencyPolicy: 'FORBID';
    startingDeadlineSeconds: number;
    enabled: boolean;
  }[];
}

/**
 * The Metronome job id of a scheduled job: dot-separated, lowercase.
 *
 * @example
 * metronomeJobId('production', 'applets', 'purge-tokens'); // 'ittd.production.applets.purge-tokens'
 */
export function metronomeJobId(environment: string, service: string, job: string): string {
  return `ittd.${environment}.${service}.${job}`;
}

/**
 * A deadline no longer than the job's period, so a late or retried run never overlaps the next tick
 * (an every-minute job gets 60 s, not 15 minutes, to start).
 */
function withinPeriod(defaultSeconds: number, periodSeconds: number): number {
  return Math.min(defaultSeconds, periodSeconds);
}

/**
 * Builds the Metronome form of one scheduled job (pure): the run (image, args `run-job <name>` after the
 * image's `node main.js` entry point, env with secret references) and one cron schedule that forbids
 * overlapping runs.
 *
 * @example
 * buildMetronomeJob(descriptor, 'purge-tokens', context).schedules[0].cron; // '0 3 * * *'
 */
export function buildMetronomeJob(
  descriptor: ServiceDescriptor,
  name: string,
  context: DeployContext,
): MetronomeJob {
  const job = resolveJob(descriptor, name, context);
  const { env, secrets } = toMesosEnv(context.service, resolveEnv(descriptor, context.environment));
  const result: MetronomeJob = {
    id: metronomeJobId(context.environment, context.service, name),
    description: job.spec.description ?? `${context.service} ${name}`,
    labels: deployLabels(context, `job-${name}`),
    run: {
      args: job.args,
      ...job.resources,
      docker: { image: context.image, forcePullImage: false },
      env,
      restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: withinPeriod(3600, job.periodSeconds) },
      maxLaunchDelay: withinPeriod(3600, job.periodSeconds),
      taskKillGracePeriodSeconds: job.taskKillGracePeriodSeconds,
    },
    schedules: [
      {
        id: 'default',
        cron: job.spec.cron,
        timezone: job.timezone,
        concurrencyPolicy: 'FORBID',
        startingDeadlineSeconds: withinPeriod(900, job.periodSeconds),
        enabled: true,
      },
    ],
  };
  if (Object.keys(secrets).length > 0) result.run.secrets = secrets;
  return result;
}
