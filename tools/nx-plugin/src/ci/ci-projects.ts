import type { ProjectGraph, Tree } from '@nx/devkit';
import { readServices } from '../compose/read-services';
import { isLocalEnvironment } from '../deploy/environments';
import { DEFAULT_ENVIRONMENT, serviceTargets } from '../plugin';

/** A deployable project (it has the inferred `deploy` target), as its pipeline needs it. */
export interface CiService {
  /** The Nx project name, also the workflow file name. */
  name: string;
  /** The environments `deploy` has a configuration for, in deploy order: production last. */
  environments: string[];
  /** Every workspace project it depends on, directly or not (sorted): tested in its pipeline too. */
  dependencies: string[];
}

/** What the ci generator writes pipelines for: the services, and the other projects (libraries, tools). */
export interface CiProjects {
  services: CiService[];
  /** Projects without a `deploy` target, sorted: the workspace pipeline's projects. */
  others: string[];
}

const DEPLOY_EXECUTOR = '@ittd/nx-plugin:deploy';

/**
 * The environments CI deploys to: production last (it deploys after the others have), the rest by name;
 * never a developer's own (`local-swarm`: `isLocalEnvironment`), which only `nx deploy` on their machine reaches.
 */
function deployOrder(environments: Iterable<string>): string[] {
  const rank = (environment: string) => (environment === DEFAULT_ENVIRONMENT ? 1 : 0);
  return [...new Set(environments)]
    .filter((environment) => !isLocalEnvironment(environment))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The projects reached from `roots` through the graph's dependencies (roots in, `self` out), sorted. */
function closure(
  graph: Pick<ProjectGraph, 'nodes' | 'dependencies'>,
  roots: string[],
  self: string,
): string[] {
  const seen = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name) || !graph.nodes[name]) continue;
    seen.add(name);
    for (const dependency of graph.dependencies[name] ?? []) pending.push(dependency.target);
  }
  seen.delete(self);
  return [...seen].sort();
}

/**
 * The services and other projects of an Nx project graph: a service is a project with the plugin's
 * `deploy` target (every `apps/<svc>/service.json`), its environments are that target's configurations,
 * its dependencies the workspace projects it reaches in the graph (imports and package.json). npm
 * packages are not projects and never listed. Sorted, so the same graph always gives the same pipelines.
 *
 * @example
 * ciProjectsFromGraph(await createProjectGraphAsync()).services[0];
 * // { name: 'applets', environments: ['staging', 'production'], dependencies: ['platform', 'service-api'] }
 */
export function ciProjectsFromGraph(graph: Pick<ProjectGraph, 'nodes' | 'dependencies'>): CiProjects {
  const services: CiService[] = [];
  const others: string[] = [];
  for (const name of Object.keys(graph.nodes).sort()) {
    const deploy = graph.nodes[name].data.targets?.deploy;
    if (deploy?.executor !== DEPLOY_EXECUTOR) {
      others.push(name);
      continue;
    }
    services.push({
      name,
      environments: deployOrder(Object.keys(deploy.configurations ?? { [DEFAULT_ENVIRONMENT]: {} })),
      dependencies: closure(graph, [name], name),
    });
  }
  return { services, others };
}

/**
 * {@link ciProjectsFromGraph} with the generator's pending changes applied: the graph is read from disk,
 * so a service being generated in the same run (its `apps/<svc>/service.json` only in the Tree) is added
 * the way Nx will see it once written: environments from its descriptor (as the plugin infers them),
 * dependencies from the workspace packages of its package.json and theirs. A service whose service.json
 * the Tree deleted is dropped.
 *
 * @example
 * // during `nx g @ittd/nx-plugin:service billing`:
 * withPendingServices(tree, graph).services.map((s) => s.name); // ['applets', 'billing', ...]
 */
export function withPendingServices(
  tree: Tree,
  graph: Pick<ProjectGraph, 'nodes' | 'dependencies'>,
): CiProjects {
  const fromGraph = ciProjectsFromGraph(graph);
  const rootOf = (name: string) => graph.nodes[name]?.data.root;
  const services = fromGraph.services.filter((s) => tree.exists(`${rootOf(s.name)}/service.json`));
  const projectByPackage = new Map(
    Object.entries(graph.nodes).flatMap(([name, node]) => {
      const packageName = (node.data.metadata as { js?: { packageName?: string } } | undefined)?.js
        ?.packageName;
      return packageName ? [[packageName, name] as const] : [];
    }),
  );
  const known = new Set(Object.values(graph.nodes).map((node) => node.data.root));
  for (const { name, descriptor } of readServices(tree)) {
    if (known.has(`apps/${name}`)) continue;
    const packageJson = tree.exists(`apps/${name}/package.json`)
      ? (JSON.parse(tree.read(`apps/${name}/package.json`, 'utf-8') ?? '{}') as {
          dependencies?: Record<string, string>;
        })
      : {};
    const direct = Object.keys(packageJson.dependencies ?? {}).flatMap((pkg) => {
      const project = projectByPackage.get(pkg);
      return project ? [project] : [];
    });
    const deploy = serviceTargets(name, Object.keys(descriptor.env ?? {})).deploy;
    services.push({
      name,
      environments: deployOrder(Object.keys(deploy.configurations ?? {})),
      dependencies: closure(graph, direct, name),
    });
  }
  services.sort((a, b) => a.name.localeCompare(b.name));
  return { services, others: fromGraph.others };
}
