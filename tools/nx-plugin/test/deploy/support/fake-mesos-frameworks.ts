import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  validateMarathonApp,
  validateMetronomeJob,
  validateMetronomeSchedule,
  type Validator,
} from '../../support/reference-schemas';

/** How the fake behaves; tests change it between calls. */
export interface FakeBehaviour {
  /** How many answers of GET /v2/deployments still list a new deployment; `never` = it never finishes. */
  finishAfterPolls: number | 'never';
  /** The next N PUTs of an app without force=true answer 409, as if another deployment held the app. */
  lockedPuts: number;
  /** The next N GETs of /v2/deployments answer 503, as a Marathon leader election does. */
  unavailablePolls?: number;
  /** When set, every call must carry `Authorization: token=<token>` (DC/OS), else 401. */
  token?: string;
}

/** One request as received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v2/apps/ittd/production/notifier/web?partialUpdate=false`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A deployment in flight, as GET /v2/deployments lists it (plus the polls left before it finishes). */
interface FakeDeployment {
  id: string;
  version: string;
  affectedApps: string[];
  affectedPods: string[];
  steps: { actions: { action: string; app: string }[] }[];
  currentActions: { action: string; app: string; readinessCheckResults: unknown[] }[];
  currentStep: number;
  totalSteps: number;
  pollsLeft: number | 'never';
}

/** A running fake: its URL (the same base for Marathon, Chronos and Metronome), what it got, what it holds. */
export interface FakeMesosFrameworks {
  url: string;
  behaviour: FakeBehaviour;
  requests: RecordedRequest[];
  apps: Map<string, Record<string, unknown>>;
  chronosJobs: Map<string, Record<string, unknown>>;
  metronomeJobs: Map<string, { spec: Record<string, unknown>; schedules: Map<string, unknown> }>;
  /** Deployments cancelled with DELETE, and whether with force (no rollback). */
  deleted: { id: string; force: boolean }[];
  close(): Promise<void>;
}

type Answer = { status: number; body?: unknown };

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

/**
 * A stand-in for Marathon, Chronos and Metronome on 127.0.0.1 (a Mesos cluster cannot run here) that
 * answers as the real APIs document (../shared/reference/README.md) and validates what it receives
 * against the upstream schemas: apps against Marathon's AppDefinition.json, Metronome jobs and schedules
 * against jobspec/schedulespec (422 with Marathon's `details` shape when invalid). Chronos has no schema
 * upstream: its POST is checked for the fields and the ISO 8601 repeating schedule Chronos requires.
 *
 * @example
 * const fake = await startFakeMesosFrameworks({ finishAfterPolls: 2, lockedPuts: 0 });
 * // ... deploy to fake.url ...
 * await fake.close();
 */
export async function startFakeMesosFrameworks(behaviour: FakeBehaviour): Promise<FakeMesosFrameworks> {
  const state: Omit<FakeMesosFrameworks, 'url' | 'close'> = {
    behaviour,
    requests: [],
    apps: new Map(),
    chronosJobs: new Map(),
    metronomeJobs: new Map(),
    deleted: [],
  };
  const deployments: FakeDeployment[] = [];

  const startDeployment = (appId: string, action: string, pollsLeft: number | 'never'): FakeDeployment => {
    const deployment: FakeDeployment = {
      id: randomUUID(),
      version: new Date().toISOString(),
      affectedApps: [appId],
      affectedPods: [],
      steps: [{ actions: [{ action, app: appId }] }],
      currentActions: [{ action, app: appId, readinessCheckResults: [] }],
      currentStep: 1,
      totalSteps: 1,
      pollsLeft,
    };
    deployments.push(deployment);
    return deployment;
  };

  const putApp = (appId: string, query: URLSearchParams, body: unknown): Answer => {
    if (behaviour.lockedPuts > 0 && query.get('force') !== 'true') {
      behaviour.lockedPuts -= 1;
      return {
        status: 409,
        body: {
          message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
          deployments: [{ id: randomUUID() }],
        },
      };
    }
    return validated(validateMarathonApp, body, () => {
      if (!isRecord(body) || body.id !== appId) {
        return invalid([`/id must be the app id of the path (${appId})`]);
      }
      const created = !state.apps.has(appId);
      state.apps.set(appId, body);
      const deployment = startDeployment(
        appId,
        created ? 'StartApplication' : 'RestartApplication',
        behaviour.finishAfterPolls,
      );
      return {
        status: created ? 201 : 200,
        body: { deploymentId: deployment.id, version: deployment.version },
      };
    });
  };

  const marathon = (method: string, path: string, query: URLSearchParams, body: unknown): Answer => {
    if (path.startsWith('/v2/apps/')) {
      const appId = `/${path.slice('/v2/apps/'.length).split('/').map(decodeURIComponent).join('/')}`;
      if (method === 'PUT') return putApp(appId, query, body);
      const app = state.apps.get(appId);
      if (method === 'GET' && app) {
        const instances = Number(app.instances ?? 1);
        const status = {
          ...app,
          version: new Date().toISOString(),
          tasksRunning: instances,
          tasksHealthy: instances,
        };
        return { status: 200, body: { app: status } };
      }
      if (method === 'GET') return { status: 404, body: { message: `App '${appId}' does not exist` } };
    }
    if (path === '/v2/deployments' && method === 'GET') {
      if ((behaviour.unavailablePolls ?? 0) > 0) {
        behaviour.unavailablePolls = (behaviour.unavailablePolls ?? 0) - 1;
        return { status: 503, body: { message: 'Leader is not available' } };
      }
      for (const d of [...deployments]) {
        if (d.pollsLeft === 'never') continue;
        if (d.pollsLeft <= 0) deployments.splice(deployments.indexOf(d), 1);
        else d.pollsLeft -= 1;
      }
      return { status: 200, body: deployments.map(({ pollsLeft: _left, ...listed }) => listed) };
    }
    if (path.startsWith('/v2/deployments/') && method === 'DELETE') {
      const id = decodeURIComponent(path.slice('/v2/deployments/'.length));
      const index = deployments.findIndex((d) => d.id === id);
      if (index < 0) return { status: 404, body: { message: `DeploymentPlan ${id} does not exist` } };
      const [cancelled] = deployments.splice(index, 1);
      const force = query.get('force') === 'true';
      state.deleted.push({ id, force });
      if (force) return { status: 202 };
      const rollback = startDeployment(cancelled.affectedApps[0], 'RestartApplication', 0);
      return { status: 200, body: { deploymentId: rollback.id, version: rollback.version } };
    }
    return { status: 404, body: { message: `no route ${method} ${path}` } };
  };

  const chronos = (body: unknown): Answer => {
    const required = ['name', 'command', 'schedule', 'container'];
    const missing = isRecord(body) ? required.filter((key) => !(key in body)) : required;
    if (!isRecord(body) || missing.length > 0) return { status: 400, body: `missing ${missing.join(', ')}` };
    if (!/^R\d*\/[^/]+\/P/.test(String(body.schedule))) return { status: 400, body: 'invalid schedule' };
    state.chronosJobs.set(String(body.name), body);
    return { status: 204 };
  };

  const metronome = (method: string, path: string, body: unknown): Answer => {
    const [, , , jobId, sub, scheduleId] = path.split('/').map(decodeURIComponent);
    const job = jobId ? state.metronomeJobs.get(jobId) : undefined;
    if (path === '/v1/jobs' && method === 'POST') {
      return validated(validateMetronomeJob, body, () => {
        const id = String((body as Record<string, unknown>).id);
        if (state.metronomeJobs.has(id)) return { status: 409, body: { message: `Job ${id} exists` } };
        state.metronomeJobs.set(id, { spec: body as Record<string, unknown>, schedules: new Map() });
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

  const send = (res: ServerResponse, { status, body }: Answer) => {
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
      state.requests.push({
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
    ...state,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
