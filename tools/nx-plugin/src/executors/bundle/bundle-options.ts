import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';

/** The bundle executor's options as Nx passes them (see schema.json). */
export interface BundleExecutorOptions {
  main?: string;
  outputPath?: string;
  tsConfig?: string;
  external?: string[];
  minify?: boolean;
  describeConfig?: boolean;
}

/** {@link BundleExecutorOptions} with every default applied and every path absolute. */
export interface ResolvedBundleOptions {
  projectName: string;
  workspaceRoot: string;
  /** The project's folder, relative to the workspace root (`apps/applets`). */
  projectRoot: string;
  main: string;
  outputPath: string;
  tsConfig: string | undefined;
  external: string[];
  minify: boolean;
  describeConfig: boolean;
}

/**
 * Applies the defaults that depend on the project: `apps/applets` bundles `apps/applets/src/main.ts` into
 * `dist/apps/applets`.
 *
 * @example
 * resolveBundleOptions({}, context).outputPath; // '/work/main/dist/apps/applets'
 */
export function resolveBundleOptions(
  options: BundleExecutorOptions,
  context: ExecutorContext,
): ResolvedBundleOptions {
  const projectName = context.projectName;
  const project = projectName ? context.projectsConfigurations?.projects[projectName] : undefined;
  if (!projectName || !project)
    throw new Error('bundle: run it as a target of a project (nx run <svc>:bundle)');
  const workspaceRoot = context.root;
  const defaultTsConfig = join(project.root, 'tsconfig.json');
  const tsConfig =
    options.tsConfig ?? (existsSync(resolve(workspaceRoot, defaultTsConfig)) ? defaultTsConfig : undefined);
  const outputPath = resolve(workspaceRoot, options.outputPath ?? join('dist', project.root));
  // The output folder is emptied first: never let that be the workspace, the project or anything above.
  const inside = relative(workspaceRoot, outputPath);
  if (
    inside === '' ||
    inside.startsWith('..') ||
    !relative(outputPath, resolve(workspaceRoot, project.root)).startsWith('..')
  ) {
    throw new Error(
      `bundle: outputPath "${options.outputPath}" must be a folder of its own inside the workspace`,
    );
  }
  return {
    projectName,
    workspaceRoot,
    projectRoot: project.root,
    main: resolve(workspaceRoot, options.main ?? join(project.root, 'src/main.ts')),
    outputPath,
    tsConfig: tsConfig ? resolve(workspaceRoot, tsConfig) : undefined,
    external: options.external ?? [],
    minify: options.minify ?? true,
    describeConfig: options.describeConfig ?? true,
  };
}
