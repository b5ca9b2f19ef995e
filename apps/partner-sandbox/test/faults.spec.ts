import { startService, type RunningService } from '@ittd/platform';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { configSchema } from '../src/config';
import type { DB } from '../src/data/database';
import { partnerSandboxService } from '../src/partner-sandbox-service';
import { startSandbox, triggerBody, type SandboxTestEnv } from './support/sandbox-test-env';

const actionBody = { actionFields: { message: 'hi' }, user: { timezone: 'UTC' } };

describe('faults set at run time through the control API', () => {
  let sandbox: SandboxTestEnv;
  beforeAll(async () => {
    sandbox = await startSandbox();
    await sandbox.api('POST', '/test/setup');
  });
  afterEach(async () => {
    await sandbox.control('DELETE', '/faults');
  });
  afterAll(() => sandbox?.stop());

  it('starts with the configured faults (none) and rejects unknown or out-of-range ones', async () => {
    const current = await sandbox.control('GET', '/faults');
    expect(current.body).toEqual({
      runTime: false,
      faults: {
        latency_ms: 0,
        error_rate: 0,
        unauthorized_rate: 0,
        timeout_rate: 0,
        fail_next: 0,
        fail_status: 503,
        drop_meta_id: false,
        scope: 'all',
      },
    });
    const bad = await sandbox.control('PUT', '/faults', { error_rate: 2, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((error: { name: string }) => error.name).sort()).toEqual([
      'colour',
      'error_rate',
    ]);
  });

  it('answers every call 503 at error_rate 1, only in its scope, and none after a reset', async () => {
    await sandbox.control('PUT', '/faults', { error_rate: 1, scope: 'actions' });
    const failed = await sandbox.api('POST', '/actions/record_message', { body: actionBody });
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ errors: [{ message: 'Injected fault: try again later.' }] });
    expect(failed.headers.get('retry-after')).toBe('1');
    const trigger = await sandbox.api('POST', '/triggers/new_item', { body: triggerBody({ list: 'inbox' }) });
    expect(trigger.status).toBe(200);
    expect((await sandbox.control('GET', '/faults')).status).toBe(200); // the control API is never faulted
    await sandbox.control('DELETE', '/faults');
    expect((await sandbox.api('POST', '/actions/record_message', { body: actionBody })).status).toBe(200);
  });

  it('answers 401 whatever the key at unauthorized_rate 1', async () => {
    await sandbox.control('PUT', '/faults', { unauthorized_rate: 1 });
    expect((await sandbox.api('GET', '/status')).status).toBe(401);
  });

  it('answers exactly the next fail_next calls with fail_status, then normally', async () => {
    await sandbox.control('PUT', '/faults', { fail_next: 2, fail_status: 500 });
    const statuses = [];
    for (let n = 0; n < 4; n++) statuses.push((await sandbox.api('GET', '/status')).status);
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect((await sandbox.control('GET', '/faults')).body.faults.fail_next).toBe(0);
  });

  it('leaves calls unanswered at timeout_rate 1, so the caller times out', async () => {
    await sandbox.control('PUT', '/faults', { timeout_rate: 1, scope: 'triggers' });
    const call = fetch(`${sandbox.url}/ifttt/v1/triggers/new_item`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ifttt-service-key': sandbox.serviceKey },
      body: JSON.stringify(triggerBody({ list: 'inbox' })),
      signal: AbortSignal.timeout(300),
    });
    await expect(call).rejects.toThrow(/aborted|timeout/i);
    expect((await sandbox.api('GET', '/status')).status).toBe(200);
  });

  it('delays answers by latency_ms', async () => {
    await sandbox.control('PUT', '/faults', { latency_ms: 2000 });
    // Bounded by a client time-out shorter than the latency: the delay is observed as a time-out, not timed.
    const slow = fetch(`${sandbox.url}/ifttt/v1/status`, {
      headers: { 'ifttt-service-key': sandbox.serviceKey },
      signal: AbortSignal.timeout(200),
    });
    await expect(slow).rejects.toThrow(/aborted|timeout/i);
    await sandbox.control('DELETE', '/faults');
    expect((await sandbox.api('GET', '/status')).status).toBe(200);
  });

  it('answers trigger events without meta.id under drop_meta_id', async () => {
    await sandbox.control('PUT', '/faults', { drop_meta_id: true });
    const answer = await sandbox.api('POST', '/triggers/new_item', { body: triggerBody({ list: 'inbox' }) });
    expect(answer.body.data[0].meta).toEqual({ timestamp: expect.any(Number) });
  });
});

describe('faults set by configuration', () => {
  let sandbox: SandboxTestEnv;
  beforeAll(async () => {
    sandbox = await startSandbox({ FAULT_ERROR_RATE: '1' });
  });
  afterAll(() => sandbox?.stop());

  it('applies FAULT_* from the start, and the control API can lift them', async () => {
    expect((await sandbox.api('GET', '/status')).status).toBe(503);
    expect((await sandbox.control('GET', '/faults')).body).toMatchObject({
      runTime: false,
      faults: { error_rate: 1 },
    });
    await sandbox.control('PUT', '/faults', { error_rate: 0 });
    expect((await sandbox.api('GET', '/status')).status).toBe(200);
    await sandbox.control('DELETE', '/faults');
    expect((await sandbox.api('GET', '/status')).status).toBe(503);
  });
});

describe('faults across replicas', () => {
  let first: SandboxTestEnv;
  let second: RunningService<typeof configSchema, DB>;
  beforeAll(async () => {
    first = await startSandbox();
    second = await startService(partnerSandboxService, { env: first.env, port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('a fault set through one replica reaches the other within FAULT_REFRESH_MS, and fail_next counts across both', async () => {
    await first.control('PUT', '/faults', { fail_next: 3 });
    const status = async (url: string) =>
      (await fetch(`${url}/ifttt/v1/status`, { headers: { 'ifttt-service-key': first.serviceKey } })).status;
    const deadline = Date.now() + 5000;
    let seen = await status(second.url);
    while (seen !== 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await status(second.url);
    }
    expect(seen).toBe(503);
    const rest = [
      await status(first.url),
      await status(second.url),
      await status(first.url),
      await status(second.url),
    ];
    expect(rest).toEqual([503, 503, 200, 200]);
  });
});
