import { orchestratorOf, type Orchestrator } from '../../deploy/environments';
import type { ApiEndpoint } from '../../marathon-client/json-http';
import type { RegistryEndpoint } from '../../marathon-client/registry-client';

/** The options of the deploy executor, as schema.json declares them. */
export interface DeployOptions {
  /** The environment the manifests must have been generated for (their `ittd.environment` label). */
  environment: string;
  /** Where to deploy; default from the environment's name (`orchestratorOf`: `*-swarm` -> swarm). */
  orchestrator?: Orchestrator;
  /** Marathon's base URL; default $MARATHON_URL. */
  marathonUrl?: string;
  /** Chronos' base URL; default $CHRONOS_URL. */
  chronosUrl?: string;
  /** Metronome's base URL; default $METRONOME_URL. */
  metronomeUrl?: string;
  /** How long one app's deployment may take before it is rolled back. */
  timeoutSeconds?: number;
  /** First wait between two polls of /v2/deployments; doubles up to {@link MAX_POLL_INTERVAL_SECONDS}. */
  pollIntervalSeconds?: number;
  /** Override a deployment that locks an app (`force=true`) instead of waiting for it. */
  force?: boolean;
  /** Print the requests, send nothing. */
  dryRun?: boolean;
  /** Deploy manifests that may take capacity down during the upgrade. */
  allowDowntime?: boolean;
  /** The lowest `upgradeStrategy.minimumHealthCapacity` deployed without `allowDowntime`. */
  minimumHealthCapacityFloor?: number;
  /** Submit and print the deployment ids, do not wait (`deploy status <id>` follows them later). */
  noWait?: boolean;
  /** `false` is `noWait`: what Nx makes of `--no-wait` (yargs negation of `wait`). Default true. */
  wait?: boolean;
  /** Registry HTTP API base URL checked for the image's tag; default $ITTD_REGISTRY_URL, else https://$ITTD_REGISTRY. */
  registryUrl?: string;
}

/** Defaults of the options (schema.json shows the same values). */
export const DEPLOY_DEFAULTS = {
  timeoutSeconds: 600,
  pollIntervalSeconds: 2,
  minimumHealthCapacityFloor: 0.5,
} as const;

/** Polls back off up to this interval: a long rollout is still noticed within seconds of its end. */
export const MAX_POLL_INTERVAL_SECONDS = 10;

/** How many times a PUT answered 409 (locked) is retried before the deploy gives up. */
export const LOCKED_RETRIES = 8;

/** The options with defaults applied and the URLs and token read from the environment. */
export interface ResolvedDeployOptions {
  environment: string;
  orchestrator: Orchestrator;
  marathon?: ApiEndpoint;
  chronos?: ApiEndpoint;
  metronome?: ApiEndpoint;
  timeoutMs: number;
  pollIntervalMs: number;
  force: boolean;
  dryRun: boolean;
  allowDowntime: boolean;
  minimumHealthCapacityFloor: number;
  wait: boolean;
  /** Where to check that the image's tag was pushed; absent: no registry configured, no check. */
  registry?: RegistryEndpoint;
}

/**
 * Applies defaults: each URL from its option, else its environment variable; `MARATHON_TOKEN` (DC/OS ACS
 * token) authenticates every call to the three frameworks. Throws on a URL that does not parse.
 *
 * @example
 * resolveDeployOptions({ environment: 'staging' }, { MARATHON_URL: 'http://marathon.mesos:8080' }).marathon?.baseUrl;
 * // 'http://marathon.mesos:8080'
 */
export function resolveDeployOptions(
  options: DeployOptions,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedDeployOptions {
  const token = env.MARATHON_TOKEN || undefined;
  const endpoint = (name: string, value: string | undefined): ApiEndpoint | undefined => {
    if (!value) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`${name} "${value}" is not a URL (expected e.g. http://marathon.mesos:8080)`);
    }
    if (url.username || url.password) {
      throw new Error(`${name} must not carry credentials: put the token in MARATHON_TOKEN`);
    }
    return { baseUrl: value, token };
  };
  return {
    environment: options.environment,
    orchestrator: options.orchestrator ?? orchestratorOf(options.environment),
    marathon: endpoint('marathonUrl', options.marathonUrl ?? env.MARATHON_URL),
    chronos: endpoint('chronosUrl', options.chronosUrl ?? env.CHRONOS_URL),
    metronome: endpoint('metronomeUrl', options.metronomeUrl ?? env.METRONOME_URL),
    timeoutMs: (options.timeoutSeconds ?? DEPLOY_DEFAULTS.timeoutSeconds) * 1000,
    pollIntervalMs: (options.pollIntervalSeconds ?? DEPLOY_DEFAULTS.pollIntervalSeconds) * 1000,
    force: options.force ?? false,
    dryRun: options.dryRun ?? false,
    allowDowntime: options.allowDowntime ?? false,
    minimumHealthCapacityFloor:
      options.minimumHealthCapacityFloor ?? DEPLOY_DEFAULTS.minimumHealthCapacityFloor,
    wait: options.wait !== false && !(options.noWait ?? false),
    registry: registryEndpoint(options.registryUrl, env),
  };
}

/**
 * The registry the deploy checks for the image's tag: `registryUrl`, else `$ITTD_REGISTRY_URL`, else
 * `https://<host of $ITTD_REGISTRY>` (docker-build's registry prefix); none when no registry is configured
 * (a cluster that pulls from Docker Hub or a local engine). Credentials: `ITTD_REGISTRY_USERNAME`/`_PASSWORD`.
 *
 * @example
 * registryEndpoint(undefined, { ITTD_REGISTRY: 'registry.example.com/team' })?.baseUrl; // 'https://registry.example.com'
 */
export function registryEndpoint(
  registryUrl: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): RegistryEndpoint | undefined {
  const host = env.ITTD_REGISTRY?.split('/')[0];
  const baseUrl = registryUrl || env.ITTD_REGISTRY_URL || (host ? `https://${host}` : undefined);
  if (!baseUrl) return undefined;
  return {
    baseUrl,
    username: env.ITTD_REGISTRY_USERNAME || undefined,
    password: env.ITTD_REGISTRY_PASSWORD || undefined,
  };
}
