import { join, resolve } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import type { RegistryAuth } from '../../docker/docker-engine';

/** The docker-build executor's options as Nx passes them (see schema.json). */
export interface DockerBuildExecutorOptions {
  bundlePath?: string;
  dockerfile?: string;
  outputPath?: string;
  baseImage?: string;
  registry?: string;
  push?: boolean;
  noCache?: boolean;
}

/** {@link DockerBuildExecutorOptions} with env and project defaults applied, paths absolute. */
export interface ResolvedDockerBuildOptions {
  service: string;
  workspaceRoot: string;
  bundlePath: string;
  dockerfile: string;
  outputPath: string;
  baseImage: string | undefined;
  registry: string | undefined;
  push: boolean;
  auth: RegistryAuth;
  noCache: boolean;
}

/**
 * Options first, then env (BASE_IMAGE, ITTD_REGISTRY, ITTD_PUSH=1, ITTD_REGISTRY_USERNAME/PASSWORD), then
 * defaults derived from the project (`apps/applets` -> bundle `dist/apps/applets`, image.json in
 * `dist/docker/applets`).
 *
 * @example
 * resolveDockerBuildOptions({}, context, process.env).bundlePath; // '/work/main/dist/apps/applets'
 */
export function resolveDockerBuildOptions(
  options: DockerBuildExecutorOptions,
  context: ExecutorContext,
  env: NodeJS.ProcessEnv,
): ResolvedDockerBuildOptions {
  const service = context.projectName;
  const project = service ? context.projectsConfigurations?.projects[service] : undefined;
  if (!service || !project)
    throw new Error('docker-build: run it as a target of a project (nx run <svc>:docker-build)');
  const registry = options.registry ?? env.ITTD_REGISTRY;
  const auth: RegistryAuth = env.ITTD_REGISTRY_USERNAME
    ? { username: env.ITTD_REGISTRY_USERNAME, password: env.ITTD_REGISTRY_PASSWORD, serveraddress: registry }
    : {};
  return {
    service,
    workspaceRoot: context.root,
    bundlePath: resolve(context.root, options.bundlePath ?? join('dist', project.root)),
    dockerfile: resolve(context.root, options.dockerfile ?? 'docker/Dockerfile'),
    outputPath: resolve(context.root, options.outputPath ?? join('dist/docker', service)),
    baseImage: options.baseImage ?? (env.BASE_IMAGE || undefined),
    registry: registry || undefined,
    push: options.push ?? env.ITTD_PUSH === '1',
    auth,
    noCache: options.noCache ?? false,
  };
}
