import { shutdownTimeoutMs } from '../config/config-settings';
import {
  resolveEnv,
  resolveHealthPaths,
  resolveResources,
  type EnvValue,
  type ProcessSpec,
  type Resources,
  type ServiceDescriptor,
} from '../descriptor/service-descriptor';
import type { DeployContext } from './deploy-context';

/** Seconds a task gets beyond its own shutdown deadline before the orchestrator sends SIGKILL. */
export const KILL_GRACE_MARGIN_SECONDS = 5;

/**
 * Seconds between SIGTERM and SIGKILL for a task with this env: the platform's shutdown deadline
 * (`SHUTDOWN_TIMEOUT_MS`) + {@link KILL_GRACE_MARGIN_SECONDS}, so SIGKILL never cuts a drain short.
 *
 * @example
 * killGraceSeconds(context, { SHUTDOWN_TIMEOUT_MS: '30000' }); // 35
 */
export function killGraceSeconds(context: DeployContext, env: Readonly<Record<string, EnvValue>>): number {
  return Math.ceil(shutdownTimeoutMs(context.configSchema, env) / 1000) + KILL_GRACE_MARGIN_SECONDS;
}

/** What every orchestrator's manifest of one process starts from, defaults applied. */
export interface ProcessInputs {
  spec: ProcessSpec;
  /** The environment's env as service.json gives it. */
  env: Record<string, EnvValue>;
  /** `env` plus `PORT` for a process with a port: what the task runs with. */
  processEnv: Record<string, EnvValue>;
  livePath: string;
  readyPath: string;
  resources: Resources;
  killGraceSeconds: number;
}

/**
 * The inputs of one process's manifest (Marathon app, Swarm service), read once for both builders. Throws
 * naming the processes there are when `process` is not one of them.
 *
 * @example
 * resolveProcessInputs(descriptor, 'web', context).processEnv.PORT; // '3000'
 */
export function resolveProcessInputs(
  descriptor: ServiceDescriptor,
  process: string,
  context: DeployContext,
): ProcessInputs {
  const spec = descriptor.processes[process];
  if (!spec) {
    throw new Error(
      `${context.service} has no process "${process}" (has: ${Object.keys(descriptor.processes).join(', ')})`,
    );
  }
  const env = resolveEnv(descriptor, context.environment);
  return {
    spec,
    env,
    processEnv: spec.port ? { ...env, PORT: String(spec.port) } : env,
    ...resolveHealthPaths(descriptor),
    resources: resolveResources(spec.resources),
    killGraceSeconds: killGraceSeconds(context, env),
  };
}
