import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  validateMarathonApp,
  validateMetronomeJob,
  validateMetronomeSchedule,
  type Validator,
} from '../../support/reference-schemas';

/** How the tasks of an image behave once launched. */
export type ImageBehaviour = 'healthy' | 'never-healthy' | 'crash';

/** How the fake behaves; tests change it between calls. */
export interface FakeBehaviour {
  /** The next N PUTs of an app without force=true answer 409, as if another deployment held the app. */
  lockedPuts: number;
  /** The next N GETs of /v2/deployments answer 503, as a Marathon leader election does. */
  unavailablePolls?: number;
  /** The next N polls of GET /v2/deployments get their connection dropped (socket destroyed, no answer). */
  droppedConnections?: number;
  /** When set, every call must carry `Authorization: token=<token>` (DC/OS), else 401. */
  token?: string;
  /** Real milliseconds per simulated tick (the cluster's clock). Default 3. */
  tickMs?: number;
  /** Ticks a new task takes from launch to passing its health and readiness checks. Default 2. */
  healthyAfterTicks?: number;
  /**
   * Per image reference, or per `<app id> <image>` for one app only: `crash` (tasks fail after
   * healthyAfterTicks), `never-healthy` (run, never pass their checks); default healthy.
   */
  images?: Record<string, ImageBehaviour>;
  /** A slow step: every deployment started by a PUT waits this many ticks before each action. */
  slowStepTicks?: number;
  /** The next PUT's deployment is replaced, one tick later, by another client's forced deployment. */
  replaceNextDeployment?: boolean;
  /** A rollback (DELETE /v2/deployments/{id}) waits this many ticks before it starts replacing tasks. */
  rollbackDelayTicks?: number;
}

/** One request as received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v2/apps/ittd/production/notifier/web?partialUpdate=false`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface FakeTask {
  id: string;
  version: string;
  image: string;
  host: string;
  ageTicks: number;
  ready: boolean;
  stagedAt: string;
}

interface FakeApp {
  definition: Record<string, unknown>;
  version: string;
  tasks: FakeTask[];
  versions: { version: string; definition: Record<string, unknown> }[];
  lastTaskFailure?: Record<string, unknown>;
  failures: number;
  /** No launch before this tick (Marathon's back-off after failed tasks). */
  launchDelayUntil: number;
}

/** A deployment in flight. */
interface FakeDeployment {
  id: string;
  version: string;
  appId: string;
  action: 'StartApplication' | 'RestartApplication' | 'StopApplication';
  /** Who started it: a PUT, a rollback, another client (replacement), a DELETE of the app. */
  origin: 'put' | 'rollback' | 'foreign' | 'delete';
  /** The definition and version before it (what a rollback goes back to); absent for a new app. */
  previous?: { definition: Record<string, unknown>; version: string };
  waitTicks: number;
}

/** A moment of the simulated cluster: deployments in flight and the ready tasks of each deploying app. */
export interface TimelineSample {
  tick: number;
  deploymentsInFlight: number;
  /** Apps being replaced (not created), with their ready tasks and the minimum their upgradeStrategy keeps. */
  replacing: { appId: string; ready: number; minimumHealthy: number }[];
}

/** A running fake: its URL (the same base for Marathon, Chronos and Metronome), what it got, what it holds. */
export interface FakeMesosFrameworks {
  url: string;
  behaviour: FakeBehaviour;
  requests: RecordedRequest[];
  /** The definitions as last PUT, by app id. */
  apps: Map<string, Record<string, unknown>>;
  chronosJobs: Map<string, Record<string, unknown>>;
  metronomeJobs: Map<string, { spec: Record<string, unknown>; schedules: Map<string, unknown> }>;
  /** Deployments cancelled with DELETE, and whether with force (no rollback). */
  deleted: { id: string; force: boolean }[];
  /** Every tick's sample (see {@link TimelineSample}). */
  timeline: TimelineSample[];
  /** The most deployments ever in flight at once (also counted at each start). */
  maxDeploymentsInFlight(): number;
  /** Creates an app that runs `instances` ready tasks of its definition, as a previous release left it. */
  seedApp(definition: Record<string, unknown>): string;
  /** The app's version and its tasks' versions and readiness. */
  appState(appId: string): { version: string; tasks: { version: string; ready: boolean }[] } | undefined;
  /** Resolves once no deployment is in flight (bounded by `timeoutMs`). */
  settled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Answer = { status: number; body?: unknown } | 'drop';

/** Marathon's 422: `details` grouped by JSON path, from the upstream schema's errors. */
function invalid(errors: string[]): Answer {
  const byPath = new Map<string, string[]>();
  for (const line of errors) {
    const at = line.indexOf(' ');
    const path = line.slice(0, at);
    byPath.set(path, [...(byPath.get(path) ?? []), line.slice(at + 1)]);
  }
  return {
    status: 422,
    body: {
      message: 'Object is not valid',
      details: [...byPath].map(([path, pathErrors]) => ({ path, errors: pathErrors })),
    },
  };
}

function validated(validate: Validator, value: unknown, orElse: () => Answer): Answer {
  const errors = validate(value);
  return errors.length > 0 ? invalid(errors) : orElse();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The definition as Marathon answers it: the defaults it fills in (backoff, kill selection, docker
 * parameters, an assigned servicePort per port mapping, health check ipProtocol...), so a client
 * comparing "what I would send" with "what runs" must cope with them as it must with real Marathon.
 */
function withMarathonDefaults(
  definition: Record<string, unknown>,
  servicePortBase: number,
): Record<string, unknown> {
  const app = clone(definition);
  app.backoffFactor ??= 1.15;
  app.backoffSeconds ??= 1;
  app.maxLaunchDelaySeconds ??= 3600;
  app.killSelection ??= 'YOUNGEST_FIRST';
  app.requirePorts ??= false;
  app.constraints ??= [];
  app.labels ??= {};
  app.executor ??= '';
  const container = app.container as Record<string, unknown> | undefined;
  if (container) {
    container.volumes ??= [];
    const docker = container.docker as Record<string, unknown> | undefined;
    if (docker) {
      docker.privileged ??= false;
      docker.parameters ??= [];
    }
    const mappings = (container.portMappings ?? []) as Record<string, unknown>[];
    mappings.forEach((m, i) => {
      if (!m.servicePort) m.servicePort = servicePortBase + i;
      m.labels ??= {};
    });
  }
  for (const check of (app.healthChecks ?? []) as Record<string, unknown>[]) check.ipProtocol ??= 'IPv4';
  return app;
}

/**
 * A stand-in for Marathon, Chronos and Metronome on 127.0.0.1 (a Mesos cluster cannot run here) that
 * answers as the real APIs document (../shared/reference/README.md) and validates what it receives
 * against the upstream schemas (422 with Marathon's `details` shape when invalid).
 *
 * Marathon is simulated on a tick clock: a deployment replaces tasks step by step as its
 * `upgradeStrategy` allows (never below `ceil(instances * minimumHealthCapacity)` ready tasks, never
 * above `floor(instances * (1 + maximumOverCapacity))` tasks, one extra when both bounds equal the
 * instances), an old task being killed only once enough new ones are ready. Tasks of an image marked
 * `crash` fail (lastTaskFailure, launch back-off in /v2/queue); `never-healthy` ones run but never
 * pass. A PUT on an app with a deployment in flight answers 409 unless forced. DELETE of a deployment
 * starts a rollback deployment to the previous version. Every tick is sampled ({@link TimelineSample}).
 *
 * @example
 * const fake = await startFakeMesosFrameworks({ lockedPuts: 0 });
 * // ... deploy to fake.url ...
 * await fake.close();
 */
export async function startFakeMesosFrameworks(behaviour: FakeBehaviour): Promise<FakeMesosFrameworks> {
  const requests: RecordedRequest[] = [];
  const lastPut = new Map<string, Record<string, unknown>>();
  const chronosJobs = new Map<string, Record<string, unknown>>();
  const metronomeJobs = new Map<string, { spec: Record<string, unknown>; schedules: Map<string, unknown> }>();
  const deleted: { id: string; force: boolean }[] = [];
  const timeline: TimelineSample[] = [];
  const apps = new Map<string, FakeApp>();
  const deployments: FakeDeployment[] = [];
  const servicePorts = new Map<string, number>();
  let tick = 0;
  let maxInFlight = 0;
  let lastVersionMs = 0;
  let pendingReplacement: string | undefined;

  const healthyAfter = () => behaviour.healthyAfterTicks ?? 2;
  const newVersion = () => {
    lastVersionMs = Math.max(Date.now(), lastVersionMs + 1);
    return new Date(lastVersionMs).toISOString();
  };
  const imageOf = (definition: Record<string, unknown>) =>
    String(
      (
        (definition.container as Record<string, unknown> | undefined)?.docker as
          Record<string, unknown> | undefined
      )?.image ?? '',
    );
  const hasHealthChecks = (definition: Record<string, unknown>) =>
    ((definition.healthChecks ?? []) as unknown[]).length > 0;

  const startDeployment = (deployment: Omit<FakeDeployment, 'id'>): FakeDeployment => {
    // A forced deployment cancels the ones running on the same app (Marathon: "canceled by a newer deployment").
    for (const other of deployments.filter((d) => d.appId === deployment.appId))
      deployments.splice(deployments.indexOf(other), 1);
    const started = { id: randomUUID(), ...deployment };
    deployments.push(started);
    maxInFlight = Math.max(maxInFlight, deployments.length);
    return started;
  };

  const setDefinition = (appId: string, definition: Record<string, unknown>, version: string): FakeApp => {
    const app = apps.get(appId) ?? {
      definition,
      version,
      tasks: [],
      versions: [],
      failures: 0,
      launchDelayUntil: 0,
    };
    app.definition = definition;
    app.version = version;
    app.failures = 0;
    app.launchDelayUntil = 0;
    app.versions.unshift({ version, definition });
    apps.set(appId, app);
    if (!servicePorts.has(appId)) servicePorts.set(appId, 10_000 + servicePorts.size * 10);
    return app;
  };

  const strategy = (definition: Record<string, unknown>) => {
    const n = Number(definition.instances ?? 1);
    const upgrade = (definition.upgradeStrategy ?? {}) as {
      minimumHealthCapacity?: number;
      maximumOverCapacity?: number;
    };
    const minimumHealthy = Math.ceil(n * (upgrade.minimumHealthCapacity ?? 1));
    let maximum = Math.floor(n * (1 + (upgrade.maximumOverCapacity ?? 1)));
    if (maximum <= n && minimumHealthy >= n) maximum = n + 1;
    return { n, minimumHealthy, maximum };
  };

  /** Tasks age; crash-image tasks fail, others become ready (never-healthy ones never do). */
  const ageTasks = () => {
    for (const [appId, app] of apps) {
      for (const task of [...app.tasks]) {
        task.ageTicks += 1;
        if (task.ageTicks < healthyAfter()) continue;
        const kind =
          behaviour.images?.[`${appId} ${task.image}`] ?? behaviour.images?.[task.image] ?? 'healthy';
        if (kind === 'crash') {
          app.tasks.splice(app.tasks.indexOf(task), 1);
          app.failures += 1;
          app.launchDelayUntil = tick + 4 * app.failures;
          app.lastTaskFailure = {
            appId,
            host: task.host,
            message: 'Command exited with status 1',
            state: 'TASK_FAILED',
            taskId: task.id,
            timestamp: new Date().toISOString(),
            version: task.version,
            slaveId: 'agent-1',
          };
        } else if (kind === 'healthy') task.ready = true;
      }
    }
  };

  const launch = (appId: string, app: FakeApp) => {
    app.tasks.push({
      id: `${appId.slice(1).replaceAll('/', '_')}.${randomUUID()}`,
      version: app.version,
      image: imageOf(app.definition),
      host: `agent-${(app.tasks.length % 3) + 1}`,
      ageTicks: 0,
      ready: false,
      stagedAt: new Date().toISOString(),
    });
  };

  /** One step of a deployment; true when it is finished. */
  const advance = (deployment: FakeDeployment): boolean => {
    if (deployment.waitTicks > 0) {
      deployment.waitTicks -= 1;
      return false;
    }
    const app = apps.get(deployment.appId);
    if (!app) return true;
    if (deployment.action === 'StopApplication') {
      apps.delete(deployment.appId);
      return true;
    }
    const { n, minimumHealthy, maximum } = strategy(app.definition);
    const current = () => app.tasks.filter((t) => t.version === app.version);
    const old = () => app.tasks.filter((t) => t.version !== app.version);
    const ready = () => app.tasks.filter((t) => t.ready).length;
    for (const task of old().filter((t) => !t.ready)) app.tasks.splice(app.tasks.indexOf(task), 1);
    while (
      old().length > 0 &&
      (ready() - 1 >= minimumHealthy || current().filter((t) => t.ready).length >= n)
    ) {
      const [victim] = old();
      app.tasks.splice(app.tasks.indexOf(victim), 1);
    }
    while (current().length < n && app.tasks.length < maximum && app.launchDelayUntil <= tick)
      launch(deployment.appId, app);
    if (deployment.origin !== 'rollback' && (behaviour.slowStepTicks ?? 0) > 0)
      deployment.waitTicks = behaviour.slowStepTicks ?? 0;
    return old().length === 0 && current().length === n && current().every((t) => t.ready);
  };

  const onTick = () => {
    tick += 1;
    if (pendingReplacement) {
      const appId = pendingReplacement;
      pendingReplacement = undefined;
      const app = apps.get(appId);
      if (app) {
        const labels = {
          ...(app.definition.labels as Record<string, string>),
          'ittd.git-sha': 'deployed-by-someone-else',
        };
        const previous = { definition: app.definition, version: app.version };
        setDefinition(appId, { ...app.definition, labels }, newVersion());
        startDeployment({
          version: app.version,
          appId,
          action: 'RestartApplication',
          origin: 'foreign',
          previous,
          waitTicks: 0,
        });
      }
    }
    ageTasks();
    for (const deployment of [...deployments]) {
      if (advance(deployment)) deployments.splice(deployments.indexOf(deployment), 1);
    }
    timeline.push({
      tick,
      deploymentsInFlight: deployments.length,
      replacing: deployments
        .filter((d) => d.previous && d.action === 'RestartApplication')
        .flatMap((d) => {
          const app = apps.get(d.appId);
          if (!app) return [];
          const { minimumHealthy } = strategy(app.definition);
          return [{ appId: d.appId, ready: app.tasks.filter((t) => t.ready).length, minimumHealthy }];
        }),
    });
  };
  const timer = setInterval(onTick, behaviour.tickMs ?? 3);

  const locked = (appId: string): Answer | undefined => {
    const holding = deployments.filter((d) => d.appId === appId);
    if (holding.length === 0 && behaviour.lockedPuts <= 0) return undefined;
    if (behaviour.lockedPuts > 0) behaviour.lockedPuts -= 1;
    return {
      status: 409,
      body: {
        message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
        deployments: holding.length > 0 ? holding.map((d) => ({ id: d.id })) : [{ id: randomUUID() }],
      },
    };
  };

  const putApp = (appId: string, query: URLSearchParams, body: unknown): Answer => {
    // Like Marathon: the definition is validated first, then the lock is checked.
    return validated(validateMarathonApp, body, () => {
      if (!isRecord(body) || body.id !== appId) {
        return invalid([`/id must be the app id of the path (${appId})`]);
      }
      if (query.get('force') !== 'true') {
        const lock = locked(appId);
        if (lock) return lock;
      }
      const existing = apps.get(appId);
      const previous = existing && { definition: existing.definition, version: existing.version };
      lastPut.set(appId, body);
      const version = newVersion();
      setDefinition(appId, body, version);
      const deployment = startDeployment({
        version,
        appId,
        action: existing ? 'RestartApplication' : 'StartApplication',
        origin: 'put',
        previous,
        waitTicks: behaviour.slowStepTicks ?? 0,
      });
      if (behaviour.replaceNextDeployment && existing) {
        behaviour.replaceNextDeployment = false;
        pendingReplacement = appId;
      }
      return { status: existing ? 200 : 201, body: { deploymentId: deployment.id, version } };
    });
  };

  const appStatus = (appId: string, app: FakeApp, embedTasks: boolean): Record<string, unknown> => {
    const running = app.tasks.filter((t) => t.ageTicks >= 1);
    const checked = hasHealthChecks(app.definition);
    const status: Record<string, unknown> = {
      ...withMarathonDefaults(app.definition, servicePorts.get(appId) ?? 10_000),
      version: app.version,
      versionInfo: { lastScalingAt: app.version, lastConfigChangeAt: app.version },
      tasksStaged: app.tasks.length - running.length,
      tasksRunning: running.length,
      tasksHealthy: checked ? app.tasks.filter((t) => t.ready).length : 0,
      tasksUnhealthy: checked ? running.filter((t) => !t.ready).length : 0,
      deployments: deployments.filter((d) => d.appId === appId).map((d) => ({ id: d.id })),
    };
    if (embedTasks) {
      status.tasks = app.tasks.map((t) => ({
        id: t.id,
        appId,
        host: t.host,
        state: t.ageTicks >= 1 ? 'TASK_RUNNING' : 'TASK_STAGING',
        version: t.version,
        stagedAt: t.stagedAt,
        healthCheckResults: checked ? [{ alive: t.ready, taskId: t.id }] : [],
      }));
      if (app.lastTaskFailure) status.lastTaskFailure = app.lastTaskFailure;
    }
    return status;
  };

  const marathon = (method: string, path: string, query: URLSearchParams, body: unknown): Answer => {
    if (path === '/v2/deployments' && method === 'GET' && (behaviour.droppedConnections ?? 0) > 0) {
      behaviour.droppedConnections = (behaviour.droppedConnections ?? 0) - 1;
      return 'drop';
    }
    if (path === '/v2/apps' && method === 'GET') {
      const filter = query.get('id') ?? '';
      return {
        status: 200,
        body: {
          apps: [...apps].filter(([id]) => id.includes(filter)).map(([id, app]) => appStatus(id, app, false)),
        },
      };
    }
    if (path.startsWith('/v2/apps/')) {
      const parts = path.slice('/v2/apps/'.length).split('/').map(decodeURIComponent);
      const versionsAt = parts.indexOf('versions');
      const appId = `/${(versionsAt >= 0 ? parts.slice(0, versionsAt) : parts).join('/')}`;
      if (method === 'PUT') return putApp(appId, query, body);
      const app = apps.get(appId);
      if (!app) return { status: 404, body: { message: `App '${appId}' does not exist` } };
      if (method === 'GET' && versionsAt >= 0) {
        const wanted = parts[versionsAt + 1];
        if (!wanted) return { status: 200, body: { versions: app.versions.map((v) => v.version) } };
        const found = app.versions.find((v) => v.version === wanted);
        if (!found)
          return { status: 404, body: { message: `App '${appId}' does not exist in version ${wanted}` } };
        return {
          status: 200,
          body: {
            ...withMarathonDefaults(found.definition, servicePorts.get(appId) ?? 10_000),
            version: found.version,
          },
        };
      }
      if (method === 'GET')
        return {
          status: 200,
          body: { app: appStatus(appId, app, query.getAll('embed').includes('app.tasks')) },
        };
      if (method === 'DELETE') {
        if (query.get('force') !== 'true') {
          const lock = locked(appId);
          if (lock) return lock;
        }
        const version = newVersion();
        const d = startDeployment({
          version,
          appId,
          action: 'StopApplication',
          origin: 'delete',
          waitTicks: 0,
        });
        return { status: 200, body: { deploymentId: d.id, version } };
      }
    }
    if (path === '/v2/queue' && method === 'GET') {
      const queue = [...apps]
        .filter(([, app]) => app.launchDelayUntil > tick)
        .map(([, app]) => ({
          count: Math.max(
            0,
            Number(app.definition.instances ?? 1) - app.tasks.filter((t) => t.version === app.version).length,
          ),
          delay: {
            timeLeftSeconds: Math.ceil(((app.launchDelayUntil - tick) * (behaviour.tickMs ?? 3)) / 1000) || 1,
            overdue: false,
          },
          since: app.version,
          app: { ...app.definition, version: app.version },
        }));
      return { status: 200, body: { queue } };
    }
    if (path === '/v2/deployments' && method === 'GET') {
      if ((behaviour.unavailablePolls ?? 0) > 0) {
        behaviour.unavailablePolls = (behaviour.unavailablePolls ?? 0) - 1;
        return { status: 503, body: { message: 'Leader is not available' } };
      }
      return {
        status: 200,
        body: deployments.map((d) => ({
          id: d.id,
          version: d.version,
          affectedApps: [d.appId],
          affectedPods: [],
          steps: [{ actions: [{ action: d.action, app: d.appId }] }],
          currentActions: [{ action: d.action, app: d.appId, readinessCheckResults: [] }],
          currentStep: 1,
          totalSteps: 1,
        })),
      };
    }
    if (path.startsWith('/v2/deployments/') && method === 'DELETE') {
      const id = decodeURIComponent(path.slice('/v2/deployments/'.length));
      const cancelled = deployments.find((d) => d.id === id);
      if (!cancelled) return { status: 404, body: { message: `DeploymentPlan ${id} does not exist` } };
      deployments.splice(deployments.indexOf(cancelled), 1);
      const force = query.get('force') === 'true';
      deleted.push({ id, force });
      if (force) return { status: 202 };
      const version = newVersion();
      if (!cancelled.previous) {
        const stop = startDeployment({
          version,
          appId: cancelled.appId,
          action: 'StopApplication',
          origin: 'rollback',
          waitTicks: behaviour.rollbackDelayTicks ?? 0,
        });
        return { status: 200, body: { deploymentId: stop.id, version } };
      }
      const app = apps.get(cancelled.appId);
      if (app) {
        app.definition = cancelled.previous.definition;
        app.version = cancelled.previous.version;
        app.failures = 0;
        app.launchDelayUntil = 0;
      }
      const rollback = startDeployment({
        version,
        appId: cancelled.appId,
        action: 'RestartApplication',
        origin: 'rollback',
        previous: cancelled.previous,
        waitTicks: behaviour.rollbackDelayTicks ?? 0,
      });
      return { status: 200, body: { deploymentId: rollback.id, version } };
    }
    return { status: 404, body: { message: `no route ${method} ${path}` } };
  };

  const chronos = (body: unknown): Answer => {
    const required = ['name', 'command', 'schedule', 'container'];
    const missing = isRecord(body) ? required.filter((key) => !(key in body)) : required;
    if (!isRecord(body) || missing.length > 0) return { status: 400, body: `missing ${missing.join(', ')}` };
    if (!/^R\d*\/[^/]+\/P/.test(String(body.schedule))) return { status: 400, body: 'invalid schedule' };
    chronosJobs.set(String(body.name), body);
    return { status: 204 };
  };

  const metronome = (method: string, path: string, body: unknown): Answer => {
    const [, , , jobId, sub, scheduleId] = path.split('/').map(decodeURIComponent);
    const job = jobId ? metronomeJobs.get(jobId) : undefined;
    if (path === '/v1/jobs' && method === 'POST') {
      return validated(validateMetronomeJob, body, () => {
        const id = String((body as Record<string, unknown>).id);
        if (metronomeJobs.has(id)) return { status: 409, body: { message: `Job ${id} exists` } };
        metronomeJobs.set(id, { spec: body as Record<string, unknown>, schedules: new Map() });
        return { status: 201, body };
      });
    }
    if (jobId && !sub && method === 'PUT') {
      return validated(validateMetronomeJob, body, () => {
        if (!job) return { status: 404, body: { message: `Job '${jobId}' does not exist` } };
        job.spec = body as Record<string, unknown>;
        return { status: 200, body };
      });
    }
    if (sub === 'schedules' && (method === 'PUT' || method === 'POST')) {
      return validated(validateMetronomeSchedule, body, () => {
        if (!job) return { status: 404, body: { message: `Job '${jobId}' does not exist` } };
        const id = String((body as Record<string, unknown>).id);
        if (method === 'PUT' && (scheduleId !== id || !job.schedules.has(id))) {
          return { status: 404, body: { message: `Schedule '${scheduleId}' does not exist` } };
        }
        job.schedules.set(id, body);
        return { status: method === 'POST' ? 201 : 200, body };
      });
    }
    return { status: 404, body: { message: `no route ${method} ${path}` } };
  };

  const answer = (method: string, url: URL, headers: IncomingHttpHeaders, body: unknown): Answer => {
    if (behaviour.token && headers.authorization !== `token=${behaviour.token}`) {
      return { status: 401, body: { message: 'Unauthorized' } };
    }
    if (url.pathname.startsWith('/v2/')) return marathon(method, url.pathname, url.searchParams, body);
    if (url.pathname === '/v1/scheduler/iso8601' && method === 'POST') return chronos(body);
    if (url.pathname.startsWith('/v1/jobs')) return metronome(method, url.pathname, body);
    return { status: 404, body: { message: 'not found' } };
  };

  const send = (res: ServerResponse, reply: Answer) => {
    if (reply === 'drop') return res.socket?.destroy();
    const { status, body } = reply;
    if (body === undefined) return res.writeHead(status).end();
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        return send(res, { status: 400, body: { message: 'Invalid JSON' } });
      }
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push({
        method: req.method ?? '',
        url: `${url.pathname}${url.search}`,
        headers: req.headers,
        body,
      });
      send(res, answer(req.method ?? '', url, req.headers, body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    behaviour,
    requests,
    apps: lastPut,
    chronosJobs,
    metronomeJobs,
    deleted,
    timeline,
    maxDeploymentsInFlight: () => maxInFlight,
    seedApp(definition) {
      const appId = String(definition.id);
      const version = newVersion();
      const app = setDefinition(appId, clone(definition), version);
      for (let i = 0; i < Number(definition.instances ?? 1); i += 1) launch(appId, app);
      for (const task of app.tasks) Object.assign(task, { ageTicks: healthyAfter(), ready: true });
      return version;
    },
    appState(appId) {
      const app = apps.get(appId);
      return (
        app && { version: app.version, tasks: app.tasks.map((t) => ({ version: t.version, ready: t.ready })) }
      );
    },
    async settled(timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (deployments.length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(timer);
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
