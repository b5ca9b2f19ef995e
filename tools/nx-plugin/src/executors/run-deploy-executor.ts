import { logger, type ExecutorContext } from '@nx/devkit';
import { basename } from 'node:path';
import type { DeployExecutorOptions, DeployFile } from '../deploy/deploy-files';
import { writeDeployFiles } from '../deploy/write-deploy-files';

/**
 * The shared body of the marathon and chronos executors: find the service of the project, let `generate`
 * build the files (it throws with a clear message on bad input), write them, report what was written.
 *
 * @example
 * return runDeployExecutor(options, context, (root, service) => ({ folders, files }));
 */
export async function runDeployExecutor(
  options: DeployExecutorOptions,
  context: ExecutorContext,
  generate: (
    workspaceRoot: string,
    service: string,
    options: DeployExecutorOptions,
  ) => { folders: string[]; files: DeployFile[]; notes?: string[] },
): Promise<{ success: boolean }> {
  const projectName = context.projectName ?? '';
  const root = context.projectsConfigurations.projects[projectName]?.root;
  if (!root) {
    logger.error(`no project root for "${projectName}"`);
    return { success: false };
  }
  try {
    const { folders, files, notes = [] } = generate(context.root, basename(root), options);
    writeDeployFiles(context.root, folders, files);
    for (const file of files) logger.info(`wrote ${file.path}`);
    for (const note of notes) logger.warn(note);
    return { success: true };
  } catch (error) {
    logger.error((error as Error).message);
    return { success: false };
  }
}
