import type { MarathonApp } from '../manifests/marathon-app';
import { ApiError } from './api-errors';
import { requestJson, type ApiEndpoint } from './json-http';

/** What `PUT /v2/apps/{id}`, `DELETE /v2/apps/{id}` and `DELETE /v2/deployments/{id}` answer: the deployment started. */
export interface DeploymentRef {
  deploymentId: string;
  version: string;
}

/** One in-flight deployment of `GET /v2/deployments` (the fields a deploy reads). */
export interface MarathonDeployment {
  id: string;
  version: string;
  affectedApps: string[];
  currentStep?: number;
  totalSteps?: number;
  currentActions?: { action: string; app: string; readinessCheckResults?: unknown[] }[];
}

/** A task of an app (`embed=app.tasks`): `version` is the app version it was launched with. */
export interface MarathonTask {
  id: string;
  appId?: string;
  host?: string;
  state?: string;
  version: string;
  healthCheckResults?: { alive: boolean }[];
}

/** `lastTaskFailure` of an app (`embed=app.lastTaskFailure`): the last task that ended badly. */
export interface TaskFailure {
  appId: string;
  host?: string;
  message: string;
  state: string;
  taskId: string;
  timestamp: string;
  version: string;
}

/** One entry of `GET /v2/queue`: launches Marathon still has to make for an app, and its back-off. */
export interface QueueItem {
  app: { id: string; version?: string };
  count: number;
  /** `overdue: false` with `timeLeftSeconds > 0`: Marathon waits (back-off after failed tasks) before launching. */
  delay: { timeLeftSeconds: number; overdue: boolean };
  since?: string;
}

/**
 * The running state of an app (`GET /v2/apps/{id}`): its whole definition (Marathon fills defaults in)
 * plus `version`, the task counts, its tasks, deployments and `lastTaskFailure`.
 */
export interface MarathonAppStatus {
  id: string;
  version: string;
  instances: number;
  tasksRunning?: number;
  tasksHealthy?: number;
  tasksStaged?: number;
  tasksUnhealthy?: number;
  healthChecks?: unknown[];
  labels?: Record<string, string>;
  upgradeStrategy?: { minimumHealthCapacity?: number; maximumOverCapacity?: number };
  tasks?: MarathonTask[];
  deployments?: { id: string }[];
  lastTaskFailure?: TaskFailure;
  [field: string]: unknown;
}

/** Any app definition Marathon accepts: a generated {@link MarathonApp} or a definition read back from it. */
export type AppDefinition = MarathonApp | ({ id: string } & Record<string, unknown>);

/** `/ittd/production/applets/web` -> `/v2/apps/ittd/production/applets/web` (ids keep their slashes). */
function appPath(id: string): string {
  return `/v2/apps/${id.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A thin adapter over Marathon's REST API v2: one method per call a deploy needs, typed answers,
 * typed errors (`AppLockedError` for 409, `InvalidDefinitionError` for 422 with its details).
 *
 * @example
 * const marathon = new MarathonClient({ baseUrl: 'http://marathon.mesos:8080', token: process.env.MARATHON_TOKEN });
 * const { deploymentId } = await marathon.putApp(app, { force: false });
 * const inFlight = await marathon.getDeployments();
 */
export class MarathonClient {
  constructor(private readonly endpoint: ApiEndpoint) {}

  /**
   * The request `putApp` sends, without sending it (for dry runs): the whole definition replaces the old one
   * (`partialUpdate=false`), `force=true` only when asked.
   *
   * @example
   * MarathonClient.putAppPath(app, { force: false }); // '/v2/apps/ittd/production/applets/web?partialUpdate=false'
   */
  static putAppPath(app: Pick<MarathonApp, 'id'>, { force }: { force: boolean }): string {
    return `${appPath(app.id)}?partialUpdate=false${force ? '&force=true' : ''}`;
  }

  /** Creates or replaces an app; Marathon answers 201 (created) or 200 (updated) with the deployment. */
  async putApp(app: AppDefinition, options: { force: boolean }): Promise<DeploymentRef> {
    return (
      await requestJson<DeploymentRef>(this.endpoint, 'PUT', MarathonClient.putAppPath(app, options), app)
    ).body;
  }

  /** Destroys an app (its tasks are killed by the deployment returned). */
  async deleteApp(id: string): Promise<DeploymentRef> {
    return (await requestJson<DeploymentRef>(this.endpoint, 'DELETE', appPath(id))).body;
  }

  /** The deployments in flight; one is finished when it is no longer listed. */
  async getDeployments(): Promise<MarathonDeployment[]> {
    return (await requestJson<MarathonDeployment[]>(this.endpoint, 'GET', '/v2/deployments')).body;
  }

  /**
   * Cancels a deployment. Without `force` Marathon rolls the apps back to their previous version (a new
   * deployment, returned); with `force` it just stops, leaving the apps half-upgraded.
   */
  async deleteDeployment(id: string, { force }: { force: boolean }): Promise<DeploymentRef | undefined> {
    const path = `/v2/deployments/${encodeURIComponent(id)}${force ? '?force=true' : ''}`;
    return (await requestJson<DeploymentRef | undefined>(this.endpoint, 'DELETE', path)).body;
  }

  /** The app's definition, version, task counts, tasks and last task failure. Throws ApiError 404 when absent. */
  async getApp(id: string): Promise<MarathonAppStatus> {
    const path = `${appPath(id)}?embed=app.tasks&embed=app.lastTaskFailure&embed=app.deployments`;
    return (await requestJson<{ app: MarathonAppStatus }>(this.endpoint, 'GET', path)).body.app;
  }

  /** {@link getApp}, or `undefined` when Marathon has no such app (a first deploy). */
  async findApp(id: string): Promise<MarathonAppStatus | undefined> {
    try {
      return await this.getApp(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The apps whose id contains `idContains` (Marathon's `GET /v2/apps?id=`), with their labels. */
  async listApps(idContains: string): Promise<MarathonAppStatus[]> {
    const path = `/v2/apps?id=${encodeURIComponent(idContains)}`;
    return (await requestJson<{ apps: MarathonAppStatus[] }>(this.endpoint, 'GET', path)).body.apps;
  }

  /** The launch queue: apps waiting for tasks to start, with their back-off delay. */
  async getQueue(): Promise<QueueItem[]> {
    return (await requestJson<{ queue: QueueItem[] }>(this.endpoint, 'GET', '/v2/queue')).body.queue;
  }

  /** The versions Marathon keeps of an app's definition, newest first (ISO 8601 timestamps). */
  async getAppVersions(id: string): Promise<string[]> {
    return (await requestJson<{ versions: string[] }>(this.endpoint, 'GET', `${appPath(id)}/versions`)).body
      .versions;
  }

  /** The app's definition as it was at `version`. */
  async getAppVersion(id: string, version: string): Promise<{ id: string } & Record<string, unknown>> {
    const path = `${appPath(id)}/versions/${encodeURIComponent(version)}`;
    return (await requestJson<{ id: string } & Record<string, unknown>>(this.endpoint, 'GET', path)).body;
  }
}
