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
}

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
