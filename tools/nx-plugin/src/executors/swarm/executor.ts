import type { ExecutorContext } from '@nx/devkit';
import { loadDeployInputs, type DeployExecutorOptions, type DeployFile } from '../../deploy/deploy-files';
import { buildSwarmService } from '../../manifests/swarm-service';
import { serviceOutputs } from '../../service-outputs';
import { runDeployExecutor } from '../run-deploy-executor';

/**
 * The Swarm files of a service: one service spec per process (Engine API `ServiceSpec`). Scheduled jobs have
 * no Swarm equivalent (Swarm has no cron; a `replicated-job` runs once): they are named in a note, not written.
 *
 * @example
 * swarmFiles('/repo', 'applets', { environment: 'local-swarm' }).files[0].path;
 * // 'dist/deploy/applets/swarm/web.json'
 */
export function swarmFiles(
  workspaceRoot: string,
  service: string,
  options: DeployExecutorOptions,
): { folders: string[]; files: DeployFile[]; notes: string[] } {
  const { descriptor, context } = loadDeployInputs(workspaceRoot, service, options);
  const folder = serviceOutputs(service).swarm;
  const files = Object.keys(descriptor.processes).map((process) => ({
    path: `${folder}/${process}.json`,
    content: buildSwarmService(descriptor, process, context),
  }));
  return { folders: [folder], files, notes: swarmJobNotes(service, Object.keys(descriptor.jobs ?? {})) };
}

/**
 * What a deploy to Swarm says about a service's scheduled jobs: Swarm has no scheduler for them.
 *
 * @example
 * swarmJobNotes('trigger-poller', ['enqueue-due-polls']);
 * // ['trigger-poller: scheduled job(s) enqueue-due-polls not deployed: Docker Swarm has no cron ...']
 */
export function swarmJobNotes(service: string, jobs: readonly string[]): string[] {
  if (jobs.length === 0) return [];
  return [
    `${service}: scheduled job(s) ${jobs.join(', ')} not deployed: Docker Swarm has no cron (a replicated-job ` +
      `runs once, on demand). Run them from Metronome/Chronos, or run one now with ` +
      `\`docker service create --mode replicated-job ... run-job <name>\`.`,
  ];
}

/**
 * `nx swarm <svc> --environment=local-swarm`: writes dist/deploy/<svc>/swarm/*.json.
 *
 * @example
 * // npx nx swarm applets -c local-swarm
 */
export default async function swarmExecutor(
  options: DeployExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return runDeployExecutor(options, context, swarmFiles);
}
