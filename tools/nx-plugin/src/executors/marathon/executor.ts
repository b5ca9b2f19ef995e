import type { ExecutorContext } from '@nx/devkit';
import { loadDeployInputs, type DeployExecutorOptions, type DeployFile } from '../../deploy/deploy-files';
import { buildMarathonApp } from '../../manifests/marathon-app';
import { serviceOutputs } from '../../service-outputs';
import { runDeployExecutor } from '../run-deploy-executor';

/**
 * The Marathon files of a service: one app definition per process.
 *
 * @example
 * marathonFiles('/repo', 'applets', { environment: 'production' }).files[0].path;
 * // 'dist/deploy/applets/marathon/web.json'
 */
export function marathonFiles(
  workspaceRoot: string,
  service: string,
  options: DeployExecutorOptions,
): { folders: string[]; files: DeployFile[] } {
  const { descriptor, context } = loadDeployInputs(workspaceRoot, service, options);
  const folder = serviceOutputs(service).marathon;
  const files = Object.keys(descriptor.processes).map((process) => ({
    path: `${folder}/${process}.json`,
    content: buildMarathonApp(descriptor, process, context),
  }));
  return { folders: [folder], files };
}

/**
 * `nx marathon <svc> [--environment=staging] [--registry=...]`: writes dist/deploy/<svc>/marathon/*.json.
 *
 * @example
 * // npx nx marathon applets --environment=staging
 */
export default async function marathonExecutor(
  options: DeployExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return runDeployExecutor(options, context, marathonFiles);
}
