import type { MarathonApp } from '../manifests/marathon-app';
import { requestJson, type ApiEndpoint } from './json-http';

/** What `PUT /v2/apps/{id}` and `DELETE /v2/deployments/{id}` answer: the deployment started. */
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

/** The running state of an app (`GET /v2/apps/{id}`), for the summary after a deployment. */
export interface MarathonAppStatus {
  id: string;
  version: string;
  instances: number;
  tasksRunning?: number;
  tasksHealthy?: number;
  tasksStaged?: number;
  tasksUnhealthy?: number;
}

/** `/ittd/production/applets/web` -> `/v2/apps/ittd/production/applets/web` (ids keep their slashes). */
function appPath(id: string): string {
  return `/v2/apps/${id.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * A thin adapter over Marathon's REST API v2: one method per call a rolling deploy needs, typed answers,
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
  async putApp(app: MarathonApp, options: { force: boolean }): Promise<DeploymentRef> {
    return (
      await requestJson<DeploymentRef>(this.endpoint, 'PUT', MarathonClient.putAppPath(app, options), app)
    ).body;
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

  /** The app's current definition and task counts. */
  async getApp(id: string): Promise<MarathonAppStatus> {
    return (await requestJson<{ app: MarathonAppStatus }>(this.endpoint, 'GET', appPath(id))).body.app;
  }
}
