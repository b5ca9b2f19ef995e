import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import deployExecutor from '../../src/executors/deploy/executor';
import type { DeployOptions } from '../../src/executors/deploy/deploy-options';
import { LOCKED_RETRIES } from '../../src/executors/deploy/deploy-options';
import type { ServiceDescriptor } from '../../src/descriptor/service-descriptor';
import { notifierDescriptor, platformSettings } from '../support/fixtures';
import { captureConsole } from './support/capture-console';
import { startFakeMesosFrameworks, type FakeMesosFrameworks } from './support/fake-mesos-frameworks';
import { NEW_IMAGE, seedPreviousRelease } from './support/release-fixtures';
import { generatedService, type ServiceWorkspace } from './support/service-workspace';

const WEB = '/ittd/production/notifier/web';
const WORKER = '/ittd/production/notifier/worker';
const FAST = { pollIntervalSeconds: 0.005, timeoutSeconds: 20 };

let fake: FakeMesosFrameworks;
let production: ServiceWorkspace;
const workspaces: ServiceWorkspace[] = [];

async function workspace(descriptor: ServiceDescriptor, environment: string): Promise<ServiceWorkspace> {
  const ws = await generatedService('notifier', descriptor, environment);
  workspaces.push(ws);
  return ws;
}

beforeAll(async () => {
  production = await workspace(notifierDescriptor, 'production');
});
afterAll(() => workspaces.forEach((ws) => ws.remove()));

beforeEach(async () => {
  // Nothing from the machine's environment leaks in: every URL and the token are set by the test.
  for (const name of ['MARATHON_URL', 'CHRONOS_URL', 'METRONOME_URL', 'MARATHON_TOKEN']) vi.stubEnv(name, '');
  fake = await startFakeMesosFrameworks({ lockedPuts: 0, tickMs: 2, healthyAfterTicks: 2 });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.close();
});

function deploy(ws: ServiceWorkspace, options: Partial<DeployOptions> = {}) {
  return captureConsole(() =>
    deployExecutor(
      { environment: 'production', marathonUrl: fake.url, metronomeUrl: fake.url, ...FAST, ...options },
      ws.context,
    ),
  );
}

const manifest = (ws: ServiceWorkspace, process: string) =>
  JSON.parse(readFileSync(join(ws.root, `dist/deploy/notifier/marathon/${process}.json`), 'utf8'));
const appPuts = () => fake.requests.filter((r) => r.method === 'PUT' && r.url.startsWith('/v2/apps/ittd/'));
const seed = (ws: ServiceWorkspace) =>
  seedPreviousRelease(fake, [manifest(ws, 'web'), manifest(ws, 'worker')], 'notifier');

describe('deploy executor', () => {
  it('deploys web then worker, each whole (partialUpdate=false), the next only once the first is verified', async () => {
    const before = seed(production);
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);

    const calls = fake.requests.map((r) => `${r.method} ${r.url}`);
    const webPut = calls.indexOf(`PUT /v2/apps${WEB}?partialUpdate=false`);
    const workerPut = calls.indexOf(`PUT /v2/apps${WORKER}?partialUpdate=false`);
    expect(webPut).toBeGreaterThanOrEqual(0);
    expect(workerPut).toBeGreaterThan(webPut);
    // Between the two: the web deployment followed (deployments, app with tasks, launch queue) until verified.
    const between = calls.slice(webPut + 1, workerPut);
    expect(between).toContain('GET /v2/deployments');
    expect(between).toContain(
      `GET /v2/apps${WEB}?embed=app.tasks&embed=app.lastTaskFailure&embed=app.deployments`,
    );
    expect(between).toContain('GET /v2/queue');
    expect(fake.apps.get(WEB)).toEqual(manifest(production, 'web'));
    expect(fake.apps.get(WORKER)).toEqual(manifest(production, 'worker'));
    expect(fake.deleted).toEqual([]);
    // Verified: every task runs the new version and is ready, none of the old one is left.
    for (const id of [WEB, WORKER]) {
      const state = fake.appState(id);
      expect(state?.version).not.toBe(before.get(id));
      expect(state?.tasks.every((t) => t.version === state.version && t.ready)).toBe(true);
    }
    expect(output).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z notifier\/web: PUT \/ittd\/production\/notifier\/web -> deployment /m,
    );
    expect(output).toMatch(
      /notifier\/web: changes: ~ container\.docker\.image: "registry\.example\.com\/ittd\/notifier:0ld0ld0" -> "registry\.example\.com\/ittd\/notifier:abc123"/,
    );
    // Live progress: healthy/total, the step and the elapsed time.
    expect(output).toMatch(
      /notifier\/web: \d\/4 new ready, \d\/4 healthy.*, step 1\/1 RestartApplication, \d+\.\d s/,
    );
    expect(output).toMatch(/notifier\/worker: version \S+ verified: 2\/2 running/);
    expect(output).toMatch(/notifier: succeeded in production \(deploy [0-9a-f-]{36}/);
  });

  it('keeps every app at its minimum healthy capacity while replacing its tasks', async () => {
    seed(production);
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);
    const samples = fake.timeline.flatMap((s) => s.replacing);
    expect(samples.filter((s) => s.appId === WEB).length).toBeGreaterThan(0);
    for (const sample of samples) expect(sample.ready).toBeGreaterThanOrEqual(sample.minimumHealthy);
  });

  it('sends the scheduled jobs to Metronome after the apps: each job, then its schedule', async () => {
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);
    expect([...fake.metronomeJobs.keys()].sort()).toEqual([
      'ittd.production.notifier.purge-deliveries',
      'ittd.production.notifier.retry-failed',
      'ittd.production.notifier.weekly-report',
    ]);
    const purge = fake.metronomeJobs.get('ittd.production.notifier.purge-deliveries');
    expect(purge?.schedules.get('default')).toMatchObject({
      cron: '30 3 * * *',
      concurrencyPolicy: 'FORBID',
    });
    const firstJobCall = fake.requests.findIndex((r) => r.url.startsWith('/v1/jobs'));
    const lastAppCall = fake.requests.findLastIndex((r) => r.url.startsWith('/v2/apps/ittd/'));
    expect(firstJobCall).toBeGreaterThan(lastAppCall);

    // A second deploy replaces job and schedule in place (PUT), creating nothing.
    fake.requests.length = 0;
    const again = await deploy(production);
    expect(again.result.success, again.output).toBe(true);
    const jobCalls = fake.requests.filter((r) => r.url.startsWith('/v1/jobs')).map((r) => r.method);
    expect(jobCalls).toEqual(Array(6).fill('PUT'));
  });

  it('sends the jobs to Chronos (ISO 8601 schedules) when CHRONOS_URL is the scheduler', async () => {
    // Chronos has no secret store: a service without secrets in that environment.
    const withoutSecrets = { ...notifierDescriptor, env: { staging: { LOG_LEVEL: 'debug' } } };
    const settings = platformSettings.filter((setting) => !setting.secret);
    const staging = await generatedService('notifier', withoutSecrets, 'staging', settings);
    workspaces.push(staging);
    vi.stubEnv('CHRONOS_URL', fake.url);
    const { result, output } = await deploy(staging, { environment: 'staging', metronomeUrl: undefined });
    expect(result.success, output).toBe(true);
    expect(fake.chronosJobs.get('ittd-staging-notifier-retry-failed')).toMatchObject({
      schedule: 'R/2026-01-01T00:00:00Z/PT15M',
    });
    expect(fake.chronosJobs.size).toBe(3);
    expect(fake.metronomeJobs.size).toBe(0);
  });

  it('waits and retries while the app is locked (409), then deploys', async () => {
    fake.behaviour.lockedPuts = 2;
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);
    const webPuts = appPuts().filter((r) => r.url.includes('/web'));
    expect(webPuts).toHaveLength(3);
    expect(webPuts.every((r) => !r.url.includes('force'))).toBe(true);
    expect(output).toMatch(
      /notifier\/web: \/ittd\/production\/notifier\/web is locked by [0-9a-f-]{36}; retrying/,
    );
  });

  it('gives up on an app locked through every retry, naming --force', async () => {
    fake.behaviour.lockedPuts = 1000;
    const { result, output } = await deploy(production);
    expect(result.success).toBe(false);
    expect(appPuts()).toHaveLength(LOCKED_RETRIES + 1);
    expect(output).toContain(`still locked by`);
    expect(output).toContain('deploy with --force');
    expect(output).toContain('not sent: dist/deploy/notifier/marathon/worker.json');
  });

  it('overrides the lock with force=true when --force is given', async () => {
    fake.behaviour.lockedPuts = 1000;
    const { result, output } = await deploy(production, { force: true });
    expect(result.success, output).toBe(true);
    expect(appPuts().map((r) => r.url)).toEqual([
      `/v2/apps${WEB}?partialUpdate=false&force=true`,
      `/v2/apps${WORKER}?partialUpdate=false&force=true`,
    ]);
  });

  it("fails on a 422 with Marathon's details (path and errors), sending nothing after it", async () => {
    const ws = await workspace(notifierDescriptor, 'production');
    const file = join(ws.root, 'dist/deploy/notifier/marathon/web.json');
    const web = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(
      file,
      JSON.stringify({ ...web, upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 2 } }),
    );
    const { result, output } = await deploy(ws);
    expect(result.success).toBe(false);
    expect(output).toContain(
      'dist/deploy/notifier/marathon/web.json: PUT /v2/apps/ittd/production/notifier/web',
    );
    expect(output).toContain('Object is not valid');
    expect(output).toMatch(/\/upgradeStrategy\/maximumOverCapacity: must be <= 1/);
    expect(appPuts()).toHaveLength(1);
    expect(fake.metronomeJobs.size).toBe(0);
  });

  it('rolls back a deployment that does not finish in time (DELETE without force), waits for the rollback, fails saying so', async () => {
    const before = seed(production);
    fake.behaviour.images = { [NEW_IMAGE('notifier')]: 'never-healthy' };
    fake.behaviour.rollbackDelayTicks = 10;
    const { result, output } = await deploy(production, { timeoutSeconds: 0.3 });
    expect(result.success).toBe(false);
    const put = appPuts();
    expect(put).toHaveLength(1);
    expect(fake.deleted).toHaveLength(1);
    expect(fake.deleted[0].force).toBe(false);
    const deleteCall = fake.requests.find((r) => r.method === 'DELETE');
    expect(deleteCall?.url).toBe(`/v2/deployments/${fake.deleted[0].id}`);
    expect(output).toContain(`deployment ${fake.deleted[0].id} of ${WEB} did not finish within 0.3 s`);
    // The deploy waited for the rollback: when it returns, the previous version runs, all ready.
    expect(output).toMatch(/rolled back by deployment [0-9a-f-]{36}: runs version \S+, 4\/4 healthy/);
    const web = fake.appState(WEB);
    expect(web?.version).toBe(before.get(WEB));
    expect(web?.tasks.every((t) => t.version === before.get(WEB) && t.ready)).toBe(true);
    expect(output).toContain('not sent: dist/deploy/notifier/marathon/worker.json');
    expect(output).toContain('notifier deploy rolled-back');
  });

  it('keeps waiting through deployment polls that fail for a while (503), then succeeds', async () => {
    fake.behaviour.unavailablePolls = 2;
    const { result, output } = await deploy(production);
    expect(result.success).toBe(true);
    expect(fake.behaviour.unavailablePolls).toBe(0);
    expect(fake.deleted).toHaveLength(0);
    expect(appPuts()).toHaveLength(2);
    expect(output).toContain('could not read Marathon');
  });

  it('prints every request of a dry run and sends nothing', async () => {
    const { result, output } = await deploy(production, { dryRun: true });
    expect(result.success, output).toBe(true);
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(output).toContain(`PUT ${fake.url}/v2/apps${WEB}?partialUpdate=false`);
    expect(output).toContain(`PUT ${fake.url}/v2/apps${WORKER}?partialUpdate=false`);
    expect(output).toContain(
      `PUT ${fake.url}/v1/jobs/ittd.production.notifier.purge-deliveries/schedules/default`,
    );
    expect(output).toContain('"minimumHealthCapacity": 1');
    expect(output.indexOf('/web?')).toBeLessThan(output.indexOf('/worker?'));
  });

  it('refuses a manifest with minimumHealthCapacity 0 unless --allow-downtime', async () => {
    const risky = await workspace(
      { ...notifierDescriptor, upgrade: { minimumHealthCapacity: 0, maximumOverCapacity: 0 } },
      'production',
    );
    const refused = await deploy(risky);
    expect(refused.result.success).toBe(false);
    expect(refused.output).toContain(
      'dist/deploy/notifier/marathon/web.json: upgradeStrategy.minimumHealthCapacity 0 is below the floor 0.5',
    );
    expect(refused.output).toContain('refusing without --allow-downtime');
    expect(fake.requests).toEqual([]);

    const allowed = await deploy(risky, { allowDowntime: true });
    expect(allowed.result.success, allowed.output).toBe(true);
    expect(allowed.output).toContain('(allowed: --allow-downtime)');
    expect(appPuts()).toHaveLength(2);
  });

  it('refuses manifests generated for another environment, sending nothing', async () => {
    const { result, output } = await deploy(production, { environment: 'staging' });
    expect(result.success).toBe(false);
    expect(output).toContain(
      'web.json was generated for production, not staging: run `nx deploy notifier -c staging`',
    );
    expect(fake.requests).toEqual([]);
  });

  it('refuses to send the jobs to both Chronos and Metronome', async () => {
    const { result, output } = await deploy(production, { chronosUrl: fake.url });
    expect(result.success).toBe(false);
    expect(output).toContain('both METRONOME_URL and CHRONOS_URL are set');
    expect(fake.requests).toEqual([]);
  });

  it('authenticates every call with MARATHON_TOKEN (token=...) and never prints the token', async () => {
    const token = 'eyJhbGciOi.secret-token-value';
    vi.stubEnv('MARATHON_TOKEN', token);
    fake.behaviour.token = token;
    const ok = await deploy(production);
    expect(ok.result.success, ok.output).toBe(true);
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.headers.authorization === `token=${token}`)).toBe(true);

    fake.behaviour.token = 'another-token';
    const rejected = await deploy(production);
    expect(rejected.result.success).toBe(false);
    expect(rejected.output).toContain('answered 401: Unauthorized');
    fake.behaviour.token = token;
    const dryRun = await deploy(production, { dryRun: true });
    for (const output of [ok.output, rejected.output, dryRun.output]) expect(output).not.toContain(token);
  });
});
