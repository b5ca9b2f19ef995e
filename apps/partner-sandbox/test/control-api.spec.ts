import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, triggerBody, type SandboxTestEnv } from './support/sandbox-test-env';

/** A stand-in for the engine's `POST /v1/notifications` (trigger-poller): keeps what it got, answers 202. */
interface EngineStandIn {
  url: string;
  received: { headers: Record<string, unknown>; body: unknown }[];
  close(): Promise<void>;
}

async function startEngineStandIn(): Promise<EngineStandIn> {
  const received: EngineStandIn['received'] = [];
  const app = express();
  app.use(express.json());
  app.post('/v1/notifications', (req, res) => {
    received.push({ headers: req.headers, body: req.body });
    res.status(202).json({ matched: req.body.data.length, enqueued: req.body.data.length });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let sandbox: SandboxTestEnv;
let engine: EngineStandIn;

beforeAll(async () => {
  engine = await startEngineStandIn();
  sandbox = await startSandbox({ ENGINE_URL: engine.url });
});
afterAll(async () => {
  await sandbox?.stop();
  await engine?.close();
});

describe('control API', () => {
  it('answers 401 problem+json without the control token, and with the service key', async () => {
    const response = await fetch(`${sandbox.url}/control/faults`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const withKey = await fetch(`${sandbox.url}/control/faults`, {
      headers: { authorization: `Bearer ${sandbox.serviceKey}` },
    });
    expect(withKey.status).toBe(401);
  });

  it('creates new_item events and lists them newest first', async () => {
    const created = await sandbox.control('POST', '/triggers/new_item/events', {
      list: 'work',
      title: 'Ship it',
      description: 'the release',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      list: 'work',
      event: { title: 'Ship it', description: 'the release' },
    });
    const listed = await sandbox.control('GET', '/triggers/new_item/events?list=work&limit=1');
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: created.body.event.meta.id, title: 'Ship it' }),
    ]);
  });

  it('answers 400 naming the field for a bad event, user or query', async () => {
    const badList = await sandbox.control('POST', '/triggers/new_item/events', {
      list: 'nowhere',
      title: 'x',
    });
    expect(badList.status).toBe(400);
    expect(badList.body.errors[0].name).toBe('list');
    const badUser = await sandbox.control('POST', '/users', { id: 'has space', name: 'x' });
    expect(badUser.body.errors[0].name).toBe('id');
    const badLimit = await sandbox.control('GET', '/actions/record_message/records?limit=0x10');
    expect(badLimit.status).toBe(400);
    expect((await sandbox.control('GET', '/actions/nope/records')).status).toBe(404);
  });

  it('creates users whose token the Service API accepts', async () => {
    const user = await sandbox.control('POST', '/users', { id: 'alice', name: 'Alice' });
    expect(user).toMatchObject({ status: 201, body: { id: 'alice', name: 'Alice' } });
    const info = await sandbox.api('GET', '/user/info', { key: null, token: user.body.access_token });
    expect(info.body).toEqual({ data: { id: 'alice', name: 'Alice' } });
  });
});

describe('realtime notifications', () => {
  it('POSTs the given entries to the engine with the service key and the request id', async () => {
    const answer = await sandbox.control('POST', '/notifications', {
      data: [{ trigger_identity: 'ti_a' }, { user_id: 'alice' }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.engine).toEqual({ status: 202, body: { matched: 2, enqueued: 2 } });
    const last = engine.received.at(-1);
    expect(last?.body).toEqual({ data: [{ trigger_identity: 'ti_a' }, { user_id: 'alice' }] });
    expect(last?.headers['ifttt-service-key']).toBe(sandbox.serviceKey);
    expect(last?.headers['x-request-id']).toBe(answer.headers.get('x-request-id'));
  });

  it('notifies every polled trigger identity when no entries are given', async () => {
    const polled = triggerBody({ list: 'inbox' });
    await sandbox.api('POST', '/test/setup');
    await sandbox.api('POST', '/triggers/new_item', { body: polled });
    const answer = await sandbox.control('POST', '/notifications', {});
    expect(answer.body.sent).toContainEqual({ trigger_identity: polled.trigger_identity });
    expect(engine.received.at(-1)?.body).toEqual({ data: answer.body.sent });
  });

  it('answers 502 when the engine cannot be reached, and 400 for a bad engine_url', async () => {
    const unreachable = await sandbox.control('POST', '/notifications', {
      engine_url: 'http://127.0.0.1:1',
      data: [{ trigger_identity: 'ti_a' }],
    });
    expect(unreachable.status).toBe(502);
    const bad = await sandbox.control('POST', '/notifications', {
      engine_url: 'ftp://x',
      data: [{ trigger_identity: 'a' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].name).toBe('engine_url');
  });
});
