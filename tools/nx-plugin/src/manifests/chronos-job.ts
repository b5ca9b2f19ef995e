import { isSecretReference, resolveEnv, type ServiceDescriptor } from '../descriptor/service-descriptor';
import { cronToIso8601 } from './cron-to-iso8601';
import type { DeployContext } from './deploy-context';
import { resolveJob } from './scheduled-job';

/** A Chronos job as `POST /v1/scheduler/iso8601` takes it (Chronos 3, Docker container). */
export interface ChronosJob {
  name: string;
  description: string;
  schedule: string;
  scheduleTimeZone: string;
  command: string;
  shell: true;
  cpus: number;
  mem: number;
  disk: number;
  retries: number;
  epsilon: string;
  concurrent: false;
  container: { type: 'DOCKER'; image: string; network: 'BRIDGE'; forcePullImage: boolean };
  environmentVariables: { name: string; value: string }[];
}

/**
 * Chronos has no secret store: a job whose env references secrets cannot be expressed for it. The
 * Metronome form of the same job carries them.
 */
export class ChronosSecretsUnsupportedError extends Error {
  override readonly name = 'ChronosSecretsUnsupportedError';
}

/**
 * Builds the Chronos job of one scheduled job (pure). The cron becomes an ISO 8601 repeating interval in
 * the job's zone; the command runs the service's `node main.js run-job <name>` entry point in its image.
 * Throws {@link ChronosSecretsUnsupportedError} when the environment's env references secrets, and
 * `UnsupportedCronError` for a cron with no fixed period.
 *
 * @example
 * buildChronosJob(descriptor, 'purge-tokens', context).schedule; // 'R/2026-01-01T03:00:00Z/P1D'
 */
export function buildChronosJob(
  descriptor: ServiceDescriptor,
  name: string,
  context: DeployContext,
): ChronosJob {
  const job = resolveJob(descriptor, name, context);
  const env = resolveEnv(descriptor, context.environment);
  const secrets = Object.keys(env).filter((key) => isSecretReference(env[key]));
  if (secrets.length > 0) {
    throw new ChronosSecretsUnsupportedError(
      `Chronos cannot inject secrets, and job ${context.service}/${name} needs ${secrets.join(', ')} ` +
        `in ${context.environment}: deploy it with its Metronome form instead`,
    );
  }
  return {
    name: `ittd-${context.environment}-${context.service}-${name}`,
    description: job.spec.description ?? `${context.service} ${name}`,
    schedule: cronToIso8601(job.spec.cron, job.timezone),
    scheduleTimeZone: job.timezone,
    command: ['node', 'main.js', ...job.args].join(' '),
    shell: true,
    ...job.resources,
    retries: 2,
    epsilon: 'PT5M',
    concurrent: false,
    container: { type: 'DOCKER', image: context.image, network: 'BRIDGE', forcePullImage: false },
    environmentVariables: Object.entries(env)
      .map(([key, value]) => ({ name: key, value: String(value) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}
