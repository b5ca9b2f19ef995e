import { metricsPort } from '../config/config-settings';
import {
  isSecretReference,
  resolveUpgradePolicy,
  DESCRIPTOR_DEFAULTS,
  type ServiceDescriptor,
} from '../descriptor/service-descriptor';
import { deployLabels, type DeployContext } from './deploy-context';
import { resolveProcessInputs } from './process-inputs';

/** Nanoseconds in a second: the Engine API gives every duration of a service spec in ns. */
const NS = 1_000_000_000;

/** Where Swarm mounts a service's secrets inside its containers (Docker's fixed location). */
export const SWARM_SECRETS_DIR = '/run/secrets';

/**
 * How long a new task may take to pass its first health check before failures count (Docker's
 * `HealthConfig.StartPeriod`; Marathon's health check `gracePeriodSeconds` plays that part there).
 */
export const HEALTH_START_PERIOD_SECONDS = 30;

/** Seconds between two health checks of a task (Docker's default is 30 s: far too slow for a rolling update). */
export const HEALTH_INTERVAL_SECONDS = 2;

/** Consecutive failed checks that make a task unhealthy (Swarm then replaces it, or rolls the update back). */
export const HEALTH_RETRIES = 3;

/**
 * How long Swarm watches each updated task for failure before it counts as updated (`UpdateConfig.Monitor`):
 * a task that fails its health check or exits within it fails the update, which then rolls back.
 */
export const UPDATE_MONITOR_SECONDS = 10;

/** A secret a service mounts: a Docker secret by name (its id is looked up at deploy time). */
export interface SwarmSecretReference {
  SecretName: string;
  /** Filled in by the deploy from `GET /secrets` (the spec file has only the name). */
  SecretID?: string;
  File: { Name: string; UID: string; GID: string; Mode: number };
}

/** Docker's `UpdateConfig`/`RollbackConfig` (Engine API v1.41). */
export interface SwarmUpdateConfig {
  Parallelism: number;
  Delay: number;
  FailureAction: 'continue' | 'pause' | 'rollback';
  Monitor: number;
  MaxFailureRatio: number;
  Order: 'stop-first' | 'start-first';
}

/**
 * The subset of the Engine API's `ServiceSpec` (v1.41, `POST /services/create` and `/services/{id}/update`)
 * that ITTD generates: one replicated service per process of a service.json.
 */
export interface SwarmServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Args: string[];
      Env: string[];
      Labels?: Record<string, string>;
      Secrets?: SwarmSecretReference[];
      Healthcheck?: {
        Test: string[];
        Interval: number;
        Timeout: number;
        Retries: number;
        StartPeriod: number;
      };
      StopSignal: 'SIGTERM';
      StopGracePeriod: number;
    };
    Resources: {
      Limits: { NanoCPUs: number; MemoryBytes: number };
      Reservations: { MemoryBytes: number };
    };
    RestartPolicy: { Condition: 'any'; Delay: number; MaxAttempts: number };
    Placement: { Preferences: { Spread: { SpreadDescriptor: string } }[] };
    Networks: { Target: string; Aliases: string[] }[];
  };
  Mode: { Replicated: { Replicas: number } };
  UpdateConfig: SwarmUpdateConfig;
  RollbackConfig: SwarmUpdateConfig;
  /** DNS round robin: `tasks.<name>` and the aliases list the healthy tasks (see {@link buildSwarmService}). */
  EndpointSpec: { Mode: 'dnsrr' };
}

/**
 * The Swarm service name of one process of a service in one environment (a DNS label: letters, digits, `-`).
 *
 * @example
 * swarmServiceName('local-swarm', 'applets', 'web'); // 'local-swarm-applets-web'
 */
export function swarmServiceName(environment: string, service: string, process: string): string {
  return `${environment}-${service}-${process}`.replace(/[^a-zA-Z0-9-]/g, '-');
}

/**
 * The overlay network the services of an environment share (with its Postgres and Redis): `ittd-<env>`.
 *
 * @example
 * swarmNetworkName('local-swarm'); // 'ittd-local-swarm'
 */
export function swarmNetworkName(environment: string): string {
  return `ittd-${environment}`;
}

/**
 * The Docker secret a `{ "secret": "<key>" }` reference of a service names: `<env>-<svc>-<key>`, so two
 * services (or environments) never share one by accident. Docker secrets are immutable: rotating means a
 * new secret (and a deploy that points at it), which is what makes the update roll.
 *
 * @example
 * swarmSecretName('production', 'applets', 'database_url'); // 'production-applets-database_url'
 */
export function swarmSecretName(environment: string, service: string, key: string): string {
  return `${environment}-${service}-${key}`;
}

/**
 * The command Docker runs in the container as its health check: an HTTP GET of the readiness path on the
 * process's own port with the image's Node (no curl in a slim image), healthy on 200 only.
 *
 * @example
 * readinessProbe(3000, '/health/ready'); // ['CMD', 'node', '-e', "require('http').get(...)"]
 */
export function readinessProbe(port: number, readyPath: string): string[] {
  const url = JSON.stringify(`http://127.0.0.1:${port}${readyPath}`);
  return [
    'CMD',
    'node',
    '-e',
    `require('http').get(${url},{timeout:1500},r=>process.exit(r.statusCode===200?0:1))` +
      `.on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))`,
  ];
}

/**
 * Builds the Swarm service spec of one process of a service (pure: no I/O), the Swarm twin of
 * {@link buildMarathonApp}; see docs: https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Service
 *
 * - `Replicas` = the process's instances; the image runs `node main.js <args>` (the image's entrypoint).
 * - env: plain values as `Env`; a secret reference `{ "secret": "database_url" }` on `DATABASE_URL` becomes
 *   the Docker secret {@link swarmSecretName} mounted at `/run/secrets/database_url`, and
 *   `DATABASE_URL_FILE=/run/secrets/database_url` (the platform's config reads `<KEY>_FILE`): the value never
 *   appears in the spec or in `docker service inspect`.
 * - Routing: endpoint mode `dnsrr`, no virtual IP: Docker's DNS answers the service name, its alias
 *   (`applets`, as in compose) and `tasks.<name>` with the tasks that passed their health check. A process
 *   with a port is published by the environment's edge load balancer (`edgeConfig` in swarm-edge.ts, HAProxy, what
 *   marathon-lb is to Marathon), not by Swarm's routing mesh, which needs IPVS in the host's kernel (see
 *   swarm-edge.ts). It is health-checked on the readiness path
 *   ({@link readinessProbe}): Swarm lists a new task in DNS only once it is healthy. Its metrics port is
 *   not published (scrapers reach it on the overlay network; the task labels say where). One check only:
 *   Docker has no separate liveness check, so a task whose readiness fails {@link HEALTH_RETRIES} times
 *   in a row is replaced.
 * - Rolling update mirroring the Marathon upgrade strategy (`minimumHealthCapacity` 1): `start-first`,
 *   one task at a time, each watched {@link UPDATE_MONITOR_SECONDS} s, any failure rolls the update back
 *   (`FailureAction: rollback`, `MaxFailureRatio: 0`); the rollback runs the same way.
 * - `StopGracePeriod` = the platform's shutdown deadline + `KILL_GRACE_MARGIN_SECONDS` (5 s) (Marathon's
 *   `taskKillGracePeriodSeconds`), so SIGKILL never cuts a drain short.
 * - Resources: memory as limit and reservation (Marathon's `mem`), CPU as a limit (a CFS quota, as Mesos
 *   enforces `cpus`) but not reserved, so a small single-node swarm can still run the whole stack.
 * - Placement spreads the tasks over nodes (Marathon's `hostname GROUP_BY`).
 *
 * @example
 * buildSwarmService(descriptor, 'web', {
 *   service: 'applets', image: 'ittd/applets:3f2c1d0', environment: 'local-swarm', gitSha: '3f2c1d0',
 * }).Name; // 'local-swarm-applets-web'
 */
export function buildSwarmService(
  descriptor: ServiceDescriptor,
  process: string,
  context: DeployContext,
): SwarmServiceSpec {
  const { spec, env, processEnv, readyPath, resources, killGraceSeconds } = resolveProcessInputs(
    descriptor,
    process,
    context,
  );
  const upgrade = resolveUpgradePolicy(descriptor, process);
  const memoryBytes = Math.round(resources.mem * 1024 * 1024);

  const plain: string[] = [];
  const secrets: SwarmSecretReference[] = [];
  const entries = Object.entries(processEnv);
  for (const [name, value] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    if (isSecretReference(value)) {
      plain.push(`${name}_FILE=${SWARM_SECRETS_DIR}/${value.secret}`);
      if (!secrets.some((s) => s.File.Name === value.secret)) {
        secrets.push({
          SecretName: swarmSecretName(context.environment, context.service, value.secret),
          File: { Name: value.secret, UID: '0', GID: '0', Mode: 0o444 },
        });
      }
    } else {
      plain.push(`${name}=${value}`);
    }
  }

  // Marathon's minimumHealthCapacity 1 (keep every old task until its replacement is ready) is start-first;
  // a lower capacity lets Marathon stop old tasks first, which is Swarm's stop-first.
  const order = upgrade.minimumHealthCapacity >= 1 ? 'start-first' : 'stop-first';
  const update: SwarmUpdateConfig = {
    Parallelism: 1,
    Delay: 0,
    FailureAction: 'rollback',
    Monitor: UPDATE_MONITOR_SECONDS * NS,
    MaxFailureRatio: 0,
    Order: order,
  };
  const name = process === 'web' ? context.service : `${context.service}-${process}`;
  const result: SwarmServiceSpec = {
    Name: swarmServiceName(context.environment, context.service, process),
    Labels: deployLabels(context, process),
    TaskTemplate: {
      ContainerSpec: {
        Image: context.image,
        Args: [...spec.args],
        Env: plain,
        StopSignal: 'SIGTERM',
        StopGracePeriod: killGraceSeconds * NS,
      },
      Resources: {
        Limits: { NanoCPUs: Math.round(resources.cpus * NS), MemoryBytes: memoryBytes },
        Reservations: { MemoryBytes: memoryBytes },
      },
      RestartPolicy: { Condition: 'any', Delay: 2 * NS, MaxAttempts: 0 },
      Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.id' } }] },
      Networks: [{ Target: swarmNetworkName(context.environment), Aliases: [name] }],
    },
    Mode: { Replicated: { Replicas: spec.instances ?? DESCRIPTOR_DEFAULTS.instances } },
    UpdateConfig: update,
    RollbackConfig: { ...update, FailureAction: 'pause' },
    EndpointSpec: { Mode: 'dnsrr' },
  };
  if (secrets.length > 0) result.TaskTemplate.ContainerSpec.Secrets = secrets;
  if (spec.port) {
    result.TaskTemplate.ContainerSpec.Healthcheck = {
      Test: readinessProbe(spec.port, readyPath),
      Interval: HEALTH_INTERVAL_SECONDS * NS,
      Timeout: 2 * NS,
      Retries: HEALTH_RETRIES,
      StartPeriod: HEALTH_START_PERIOD_SECONDS * NS,
    };
    const metrics = metricsPort(context.configSchema, env, spec.port);
    if (metrics !== undefined) {
      result.TaskTemplate.ContainerSpec.Labels = {
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(metrics),
        'prometheus.io/path': '/metrics',
      };
    }
  }
  return result;
}
