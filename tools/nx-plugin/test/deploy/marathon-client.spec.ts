import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, AppLockedError, InvalidDefinitionError } from '../../src/marathon-client/api-errors';
import { MarathonClient } from '../../src/marathon-client/marathon-client';
import { buildMarathonApp } from '../../src/manifests/marathon-app';
import { context, notifierDescriptor } from '../support/fixtures';
import { startFakeMesosFrameworks, type FakeMesosFrameworks } from './support/fake-mesos-frameworks';

let fake: FakeMesosFrameworks;
beforeAll(async () => {
  fake = await startFakeMesosFrameworks({ lockedPuts: 0, tickMs: 20 });
});
afterAll(() => fake.close());

const web = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));

describe('MarathonClient', () => {
  it('creates (201) then replaces (200) an app whole, and reads its deployments, status, queue and versions', async () => {
    const client = new MarathonClient({ baseUrl: `${fake.url}/` });
    expect(await client.findApp(web.id)).toBeUndefined();
    const created = await client.putApp(web, { force: false });
    expect(created.deploymentId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client.getDeployments()).map((d) => d.id)).toEqual([created.deploymentId]);
    // Locked by its own deployment until that one finishes (Marathon's 409 names it).
    const locked = await client.putApp(web, { force: false }).catch((e) => e);
    expect(locked).toBeInstanceOf(AppLockedError);
    expect((locked as AppLockedError).deploymentIds).toEqual([created.deploymentId]);
    await fake.settled();
    expect(await client.getDeployments()).toEqual([]);
    const replaced = await client.putApp(web, { force: false });
    expect(fake.requests.at(-1)?.url).toBe('/v2/apps/ittd/production/notifier/web?partialUpdate=false');
    await fake.settled();
    const status = await client.getApp(web.id);
    expect(status).toMatchObject({ id: web.id, instances: 4, tasksHealthy: 4, version: replaced.version });
    expect(status.tasks?.map((t) => t.version)).toEqual(Array(4).fill(replaced.version));
    expect(await client.getQueue()).toEqual([]);
    expect(await client.getAppVersions(web.id)).toEqual([replaced.version, created.version]);
    expect(await client.getAppVersion(web.id, created.version)).toMatchObject({
      id: web.id,
      version: created.version,
    });
    expect((await client.listApps('/ittd/production/')).map((a) => a.id)).toEqual([web.id]);
  });

  it('throws AppLockedError with the locking deployments on 409', async () => {
    fake.behaviour.lockedPuts = 1;
    const error = await new MarathonClient({ baseUrl: fake.url })
      .putApp(web, { force: false })
      .catch((e) => e);
    expect(error).toBeInstanceOf(AppLockedError);
    expect((error as AppLockedError).deploymentIds).toHaveLength(1);
  });

  it('throws InvalidDefinitionError listing every path of a 422, one a line', async () => {
    const invalid = { ...web, instances: -1, cpus: 'one' as unknown as number };
    const error = await new MarathonClient({ baseUrl: fake.url })
      .putApp(invalid, { force: false })
      .catch((e) => e);
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    const { details, message } = error as InvalidDefinitionError;
    expect(details.map((d) => d.path).sort()).toEqual(['/cpus', '/instances']);
    expect(message.split('\n')).toEqual(
      expect.arrayContaining([
        'PUT /v2/apps/ittd/production/notifier/web?partialUpdate=false: Object is not valid',
        '  /instances: must be >= 0',
        '  /cpus: must be number',
      ]),
    );
  });

  it('throws ApiError with the status for anything else (404 of an unknown deployment)', async () => {
    const error = await new MarathonClient({ baseUrl: fake.url })
      .deleteDeployment('no-such-deployment', { force: false })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(404);
    expect((error as ApiError).message).toBe(
      'DELETE /v2/deployments/no-such-deployment answered 404: DeploymentPlan no-such-deployment does not exist',
    );
  });

  it('names the call and the host when Marathon cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = new MarathonClient({ baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 2000 });
    await expect(unreachable.getDeployments()).rejects.toThrow(
      new RegExp(`^GET /v2/deployments on http://127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`),
    );
  });
});
