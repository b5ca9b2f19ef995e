import descriptorSchema from '../../schemas/service.schema.json';

/** An env var value in a descriptor: a plain value, or a reference to a secret in the cluster's store. */
export type EnvValue = string | SecretReference;

/** `{ "secret": "database_url" }`: the value lives in the secret store under `<svc>/database_url`. */
export interface SecretReference {
  secret: string;
}

/** Mesos resources of one task (cpus in shares, mem and disk in MiB). */
export interface Resources {
  cpus: number;
  mem: number;
  disk: number;
}

/** Marathon `upgradeStrategy`: how many instances stay healthy and how many extra may start while rolling. */
export interface UpgradePolicy {
  minimumHealthCapacity: number;
  maximumOverCapacity: number;
}

/** One process type of a service (a Procfile line): run as `node main.js <args...>`. */
export interface ProcessSpec {
  args: string[];
  port?: number;
  instances?: number;
  resources?: Partial<Resources>;
  upgrade?: Partial<UpgradePolicy>;
  /** Marathon placement constraints; see {@link resolveConstraints} for the default. */
  constraints?: PlacementConstraint[];
  /** Host name(s) marathon-lb routes to this process (`HAPROXY_0_VHOST`), comma-separated. */
  virtualHost?: string;
  /** The marathon-lb group (`HAPROXY_GROUP`); default `external` with a virtual host, else `internal`. */
  haproxyGroup?: string;
}

/** A Marathon constraint: `[field, operator]` or `[field, operator, value]`, e.g. `['hostname', 'GROUP_BY']`. */
export type PlacementConstraint = [string, string] | [string, string, string];

/** Spread the tasks of a process that serves traffic evenly across agents (see {@link resolveConstraints}). */
export const DEFAULT_SERVING_CONSTRAINTS: PlacementConstraint[] = [['hostname', 'GROUP_BY']];

/** One scheduled job, run as `node main.js run-job <name>`. */
export interface JobSpec {
  cron: string;
  timezone?: string;
  description?: string;
  resources?: Partial<Resources>;
}

/**
 * The content of `apps/<svc>/service.json`, as validated by `schemas/service.schema.json`. Optional fields
 * take the schema's defaults through the `resolve*` helpers below, so a default is written once (in the schema).
 *
 * @example
 * const descriptor: ServiceDescriptor = { processes: { web: { args: ['serve'], port: 3000 } } };
 */
export interface ServiceDescriptor {
  $schema?: string;
  description?: string;
  processes: Record<string, ProcessSpec>;
  health?: { livePath?: string; readyPath?: string };
  upgrade?: Partial<UpgradePolicy>;
  env?: Record<string, Record<string, EnvValue>>;
  jobs?: Record<string, JobSpec>;
}

/** A descriptor together with the service it describes (the name is the folder name under apps/). */
export interface Service {
  name: string;
  descriptor: ServiceDescriptor;
}

const defs = descriptorSchema.definitions;

/** The schema's defaults, read from the schema so the editor hint and the generated files agree. */
export const DESCRIPTOR_DEFAULTS = {
  resources: {
    cpus: defs.resources.properties.cpus.default,
    mem: defs.resources.properties.mem.default,
    disk: defs.resources.properties.disk.default,
  } satisfies Resources,
  upgrade: {
    minimumHealthCapacity: defs.upgrade.properties.minimumHealthCapacity.default,
    maximumOverCapacity: defs.upgrade.properties.maximumOverCapacity.default,
  } satisfies UpgradePolicy,
  instances: defs.process.properties.instances.default,
  timezone: defs.job.properties.timezone.default,
  livePath: descriptorSchema.properties.health.properties.livePath.default,
  readyPath: descriptorSchema.properties.health.properties.readyPath.default,
} as const;

/**
 * Tells a secret reference from a plain value.
 *
 * @example
 * isSecretReference({ secret: 'database_url' }); // true
 */
export function isSecretReference(value: EnvValue): value is SecretReference {
  return typeof value === 'object' && value !== null && 'secret' in value;
}

/**
 * The resources of a process or job, defaults filled in.
 *
 * @example
 * resolveResources({ mem: 512 }); // { cpus: 0.25, mem: 512, disk: 0 }
 */
export function resolveResources(resources: Partial<Resources> | undefined): Resources {
  return { ...DESCRIPTOR_DEFAULTS.resources, ...resources };
}

/**
 * The upgrade policy of a process: the process's own, else the service's, else the schema default.
 *
 * @example
 * resolveUpgradePolicy(descriptor, 'web'); // { minimumHealthCapacity: 1, maximumOverCapacity: 0.2 }
 */
export function resolveUpgradePolicy(descriptor: ServiceDescriptor, process: string): UpgradePolicy {
  return { ...DESCRIPTOR_DEFAULTS.upgrade, ...descriptor.upgrade, ...descriptor.processes[process]?.upgrade };
}

/**
 * The live and ready paths, defaulting to the platform's `/health/live` and `/health/ready`.
 *
 * @example
 * resolveHealthPaths({ processes: {} }); // { livePath: '/health/live', readyPath: '/health/ready' }
 */
export function resolveHealthPaths(descriptor: ServiceDescriptor): { livePath: string; readyPath: string } {
  return {
    livePath: descriptor.health?.livePath ?? DESCRIPTOR_DEFAULTS.livePath,
    readyPath: descriptor.health?.readyPath ?? DESCRIPTOR_DEFAULTS.readyPath,
  };
}

/**
 * The env of one environment (empty when the descriptor names none for it).
 *
 * @example
 * resolveEnv(descriptor, 'production'); // { LOG_LEVEL: 'info', DATABASE_URL: { secret: 'database_url' } }
 */
export function resolveEnv(descriptor: ServiceDescriptor, environment: string): Record<string, EnvValue> {
  return { ...descriptor.env?.[environment] };
}

/**
 * The placement constraints of a process: its own when given (`[]` places freely), else for a process with
 * a port {@link DEFAULT_SERVING_CONSTRAINTS} so one agent going down never takes all web tasks, else none.
 * GROUP_BY rather than UNIQUE: UNIQUE needs one more agent than instances during a rolling upgrade
 * (`maximumOverCapacity` starts extra tasks first) and stalls the deployment on a small cluster.
 *
 * @example
 * resolveConstraints({ args: ['serve'], port: 3000 }); // [['hostname', 'GROUP_BY']]
 * resolveConstraints({ args: ['worker'] }); // []
 */
export function resolveConstraints(spec: ProcessSpec): PlacementConstraint[] {
  if (spec.constraints) return spec.constraints.map((c) => [...c] as PlacementConstraint);
  return spec.port ? DEFAULT_SERVING_CONSTRAINTS.map((c) => [...c] as PlacementConstraint) : [];
}

/**
 * The marathon-lb labels of a process that serves traffic (has a port): `HAPROXY_GROUP` and, with a
 * virtual host, `HAPROXY_0_VHOST` + `HAPROXY_0_MODE: http` (marathon-lb's label names; index 0 = the
 * first port mapping). None for a process without a port; a virtual host without a port is an error.
 *
 * @example
 * loadBalancerLabels('applets', 'web', { args: ['serve'], port: 3000, virtualHost: 'applets.ittd.dev' });
 * // { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'applets.ittd.dev', HAPROXY_0_MODE: 'http' }
 */
export function loadBalancerLabels(
  service: string,
  process: string,
  spec: ProcessSpec,
): Record<string, string> {
  if (!spec.port) {
    if (spec.virtualHost || spec.haproxyGroup) {
      throw new Error(
        `${service}: process ${process} has a virtualHost or haproxyGroup but no port: marathon-lb has nothing to route to`,
      );
    }
    return {};
  }
  const labels: Record<string, string> = {
    HAPROXY_GROUP: spec.haproxyGroup ?? (spec.virtualHost ? 'external' : 'internal'),
  };
  if (spec.virtualHost) {
    labels.HAPROXY_0_VHOST = spec.virtualHost;
    labels.HAPROXY_0_MODE = 'http';
  }
  return labels;
}
