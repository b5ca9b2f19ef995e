import { resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';

/** The workspace root, from this file's place in it. */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Where the test fixture service lives, relative to the workspace root. */
export const FIXTURE_ROOT = 'tools/nx-plugin/test/docker/fixtures/hello-service';

/**
 * The ExecutorContext Nx hands an executor for `nx run <projectName>:<target>`, for one project, so the
 * tests run the real executors on the fixture service and on the real apps without a project graph.
 *
 * @example
 * await bundleExecutor({ outputPath: 'tmp/x' }, projectContext('hello-fixture', FIXTURE_ROOT, 'bundle'));
 */
export function projectContext(
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
