import { dirname, join } from 'node:path';
import { createNodesFromFiles, type CreateNodes, type TargetConfiguration } from '@nx/devkit';
import { readServiceDescriptor } from './descriptor/load-descriptor';
import { orchestratorOf } from './deploy/environments';
import { serviceOutputs } from './service-outputs';

/** Options of the plugin entry in nx.json (none yet: every convention is fixed by the platform). */
export type IttdPluginOptions = Record<string, never>;

/** The file that makes a folder under apps/ a deployable service. */
export const SERVICE_DESCRIPTOR_GLOB = 'apps/*/service.json';

/** The environment the marathon and chronos targets generate for unless told `--environment=...`. */
export const DEFAULT_ENVIRONMENT = 'production';

/**
 * The targets every service gets from its service.json, so no project needs boilerplate:
 * `bundle` (+ `build` alias) -> `docker-build` -> `marathon` / `chronos` / `swarm` -> `deploy`. `marathon`,
 * `chronos`, `swarm` and `deploy` get one configuration per environment of the descriptor (besides `local`, which is compose's):
 * Nx passes `-c staging` on to the dependencies that have it, so the manifests deployed are generated for it.
 *
 * @example
 * serviceTargets('applets')['docker-build'].dependsOn; // ['bundle']
 * serviceTargets('applets', ['staging']).deploy.configurations?.staging; // { environment: 'staging' }
 */
export function serviceTargets(
  service: string,
  environments: readonly string[] = [],
): Record<string, TargetConfiguration> {
  const out = serviceOutputs(service);
  const configurations = Object.fromEntries(
    [...new Set([DEFAULT_ENVIRONMENT, ...environments])]
      .filter((environment) => environment !== 'local')
      .map((environment) => [environment, { environment }]),
  );
  const deployConfigurations = Object.fromEntries(
    Object.keys(configurations).map((environment) => [
      environment,
      { environment, orchestrator: orchestratorOf(environment) },
    ]),
  );
  const deployTarget = (executor: string, description: string, outputs: string[]): TargetConfiguration => ({
    executor,
    dependsOn: ['docker-build'],
    // Not cached: cheap, and they read the git sha and the last image built.
    cache: false,
    options: { environment: DEFAULT_ENVIRONMENT },
    configurations,
    outputs: outputs.map((path) => `{workspaceRoot}/${path}`),
    metadata: { description },
  });
  return {
    bundle: {
      executor: '@ittd/nx-plugin:bundle',
      cache: true,
      // The bundle inlines third-party code. No `externalDependencies` entry on purpose: without one, Nx
      // hashes every npm package's lockfile entry (esbuild's included) into the key, so any lockfile change
      // rebuilds the bundle. Not `{workspaceRoot}/package-lock.json`: a workspace-root file input would mark
      // every service affected by any lockfile change; which services a lockfile change affects comes from
      // the project graph instead (`projectsAffectedByDependencyUpdates: "auto"` in nx.json).
      inputs: ['production', '^production'],
      outputs: [`{workspaceRoot}/${out.bundle}`],
      metadata: { description: `Bundle ${service} with esbuild into ${out.bundle} (+ config-schema.json)` },
    },
    build: {
      executor: 'nx:noop',
      dependsOn: ['bundle'],
      metadata: { description: `Alias of bundle` },
    },
    'docker-build': {
      executor: '@ittd/nx-plugin:docker-build',
      dependsOn: ['bundle'],
      cache: true,
      inputs: [
        { dependentTasksOutputFiles: '**/*', transitive: false },
        '{workspaceRoot}/docker/Dockerfile',
        { env: 'BASE_IMAGE' },
        { env: 'ITTD_REGISTRY' },
        // Pushing is part of the key: after an unpushed build, `ITTD_PUSH=1` misses the cache, so the
        // executor runs (re-tags the image it finds, no rebuild) and pushes; a cache hit never hides a push.
        { env: 'ITTD_PUSH' },
        // What the engine holds for this bundle (`missing <random>` when nothing): a cache hit still
        // guarantees the image is in the engine. See src/executors/docker-build/target.md.
        { runtime: `node tools/nx-plugin/src/docker/image-present.cjs ${service}` },
      ],
      outputs: [`{workspaceRoot}/${out.docker}`],
      metadata: {
        description: `Build the ${service} image from docker/Dockerfile; writes ${out.docker}/image.json`,
      },
    },
    marathon: deployTarget(
      '@ittd/nx-plugin:marathon',
      `Write one Marathon app per process of ${service} into ${out.marathon}`,
      [out.marathon],
    ),
    swarm: deployTarget(
      '@ittd/nx-plugin:swarm',
      `Write one Docker Swarm service spec per process of ${service} into ${out.swarm}`,
      [out.swarm],
    ),
    chronos: deployTarget(
      '@ittd/nx-plugin:chronos',
      `Write the Chronos and Metronome jobs of ${service} into ${out.chronos} and ${out.metronome}`,
      [out.chronos, out.metronome],
    ),
    deploy: {
      executor: '@ittd/nx-plugin:deploy',
      dependsOn: ['marathon', 'chronos', 'swarm'],
      // Never cached: it acts on a cluster, and `nx affected` already limits it to what changed.
      cache: false,
      options: { environment: DEFAULT_ENVIRONMENT, orchestrator: orchestratorOf(DEFAULT_ENVIRONMENT) },
      configurations: deployConfigurations,
      metadata: {
        description: `Rolling deploy of ${service} to Marathon ($MARATHON_URL) and its jobs to Metronome or Chronos, or to Docker Swarm (environments named swarm or *-swarm)`,
      },
    },
  };
}

/**
 * Infers the service targets for every `apps/<svc>/service.json`. Cheap on purpose (it runs on every
 * `nx show projects`): reads and validates the JSON, spawns nothing; a broken descriptor is reported
 * with its file and path.
 *
 * @example
 * // nx.json: { "plugins": ["@ittd/nx-plugin"] }
 */
export const createNodesV2: CreateNodes<IttdPluginOptions> = [
  SERVICE_DESCRIPTOR_GLOB,
  (files, options, context) =>
    createNodesFromFiles(
      (file, _options, ctx) => {
        const descriptor = readServiceDescriptor(join(ctx.workspaceRoot, file));
        const root = dirname(file);
        const service = root.split('/').pop() ?? root;
        const targets = serviceTargets(service, Object.keys(descriptor.env ?? {}));
        return { projects: { [root]: { root, targets } } };
      },
      files,
      options ?? {},
      context,
    ),
];

/** Nx 23's name for {@link createNodesV2} (same pair, so either loader finds it). */
export const createNodes = createNodesV2;
