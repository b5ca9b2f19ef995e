import { metricsPort } from '../config/config-settings';
import {
  loadBalancerLabels,
  resolveConstraints,
  resolveUpgradePolicy,
  DESCRIPTOR_DEFAULTS,
  type ServiceDescriptor,
  type PlacementConstraint,
  type UpgradePolicy,
} from '../descriptor/service-descriptor';
import { deployLabels, type DeployContext } from './deploy-context';
import { toMesosEnv, type MesosEnvValue } from './mesos-env';
import { resolveProcessInputs } from './process-inputs';

/** The name of the port mapping of a process that listens (what readiness checks and load balancers use). */
export const HTTP_PORT_NAME = 'http';

/**
 * The name of the port mapping `/metrics` is served on (the platform's METRICS_PORT listener): second in the
 * list, so marathon-lb (which routes port index 0, `HAPROXY_0_*`) never exposes it; its labels tell a
 * Prometheus `marathon_sd_configs` job which port and path to scrape.
 */
export const METRICS_PORT_NAME = 'metrics';

/** The subset of Marathon's AppDefinition (v1.5+ networking) that ITTD generates. */
export interface MarathonApp {
  id: string;
  instances: number;
  cpus: number;
  mem: number;
  disk: number;
  args: string[];
  container: {
    type: 'DOCKER';
    docker: { image: string; forcePullImage: boolean };
    portMappings?: {
      containerPort: number;
      hostPort: number;
      name: string;
      protocol: 'tcp';
      labels?: Record<string, string>;
    }[];
  };
  networks: { mode: 'container/bridge' }[];
  /** Placement constraints (omitted when none). */
  constraints?: PlacementConstraint[];
  env: Record<string, MesosEnvValue>;
  secrets?: Record<string, { source: string }>;
  healthChecks?: {
    protocol: 'MESOS_HTTP';
    path: string;
    portIndex: number;
    gracePeriodSeconds: number;
    intervalSeconds: number;
    timeoutSeconds: number;
    maxConsecutiveFailures: number;
    delaySeconds: number;
  }[];
  readinessChecks?: {
    name: string;
    protocol: 'HTTP';
    path: string;
    portName: string;
    intervalSeconds: number;
    timeoutSeconds: number;
    httpStatusCodesForReady: number[];
    preserveLastResponse: boolean;
  }[];
  upgradeStrategy: UpgradePolicy;
  taskKillGracePeriodSeconds: number;
  labels: Record<string, string>;
}

/**
 * The Marathon app id of one process of a service in one environment.
 *
 * @example
 * marathonAppId('production', 'applets', 'web'); // '/ittd/production/applets/web'
 */
export function marathonAppId(environment: string, service: string, process: string): string {
  return `/ittd/${environment}/${service}/${process}`;
}

/**
 * Builds the Marathon app definition of one process of a service (pure: no I/O). Rolling upgrades never take
 * the fleet down: `minimumHealthCapacity` 1 keeps every old task until a new one passes its readiness check
 * on the ready path, and `maximumOverCapacity` bounds the extra tasks. Tasks get `taskKillGracePeriodSeconds`
 * above the platform's shutdown deadline, so SIGKILL never cuts a drain short. Secrets stay references.
 *
 * @example
 * buildMarathonApp(descriptor, 'web', {
 *   service: 'applets', image: 'ittd/applets:3f2c1d0', environment: 'production', gitSha: '3f2c1d0',
 * }).id; // '/ittd/production/applets/web'
 */
export function buildMarathonApp(
  descriptor: ServiceDescriptor,
  process: string,
  context: DeployContext,
): MarathonApp {
  const { spec, env, processEnv, livePath, readyPath, resources, killGraceSeconds } = resolveProcessInputs(
    descriptor,
    process,
    context,
  );
  const mesosEnv = toMesosEnv(context.service, processEnv);

  const app: MarathonApp = {
    id: marathonAppId(context.environment, context.service, process),
    instances: spec.instances ?? DESCRIPTOR_DEFAULTS.instances,
    ...resources,
    args: spec.args,
    container: { type: 'DOCKER', docker: { image: context.image, forcePullImage: false } },
    networks: [{ mode: 'container/bridge' }],
    env: mesosEnv.env,
    upgradeStrategy: resolveUpgradePolicy(descriptor, process),
    taskKillGracePeriodSeconds: killGraceSeconds,
    labels: { ...deployLabels(context, process), ...loadBalancerLabels(context.service, process, spec) },
  };
  const constraints = resolveConstraints(spec);
  if (constraints.length > 0) app.constraints = constraints;
  if (Object.keys(mesosEnv.secrets).length > 0) app.secrets = mesosEnv.secrets;
  const metrics = metricsPort(context.configSchema, env, spec.port);
  if (spec.port) {
    app.container.portMappings = [
      { containerPort: spec.port, hostPort: 0, name: HTTP_PORT_NAME, protocol: 'tcp' },
    ];
    if (metrics !== undefined) {
      app.container.portMappings.push({
        containerPort: metrics,
        hostPort: 0,
        name: METRICS_PORT_NAME,
        protocol: 'tcp',
        labels: { 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' },
      });
    }
    app.healthChecks = [
      {
        protocol: 'MESOS_HTTP',
        path: livePath,
        portIndex: 0,
        gracePeriodSeconds: 60,
        intervalSeconds: 10,
        timeoutSeconds: 5,
        maxConsecutiveFailures: 3,
        delaySeconds: 5,
      },
    ];
    app.readinessChecks = [
      {
        name: 'ready',
        protocol: 'HTTP',
        path: readyPath,
        portName: HTTP_PORT_NAME,
        intervalSeconds: 5,
        timeoutSeconds: 3,
        httpStatusCodesForReady: [200],
        preserveLastResponse: false,
      },
    ];
  }
  return app;
}
