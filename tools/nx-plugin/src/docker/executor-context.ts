import { resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';

/** The workspace root, from this file's place in it (tools/nx-plugin/src/docker). */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/**
 * The ExecutorContext Nx hands an executor for `nx run <projectName>:<target>`, for one project, so that
 * the image benchmark and the tests call the real executors directly (timing the executor, not Nx's
 * startup) without building a project graph.
 *
 * @example
 * await bundleExecutor({}, executorContext('applets', 'apps/applets', 'bundle'));
 */
export function executorContext(
  projectName: string,
  projectRoot: string,
  targetName: string,
): ExecutorContext {
  return {
    root: WORKSPACE_ROOT,
    cwd: WORKSPACE_ROOT,
    isVerbose: false,
    projectName,
    targetName,
    projectsConfigurations: { version: 2, projects: { [projectName]: { root: projectRoot } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}
