import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHttpService,
  createLogger,
  createMetricsRegistry,
  HealthRegistry,
  httpServerComponent,
  type HttpServerComponent,
} from '../src/index';
import { logCollector, rawSocket, type RawSocket } from './support';

const HOST = 'Host: 127.0.0.1\r\n';

/** A request the test lets go of: the route waits for `release()` before (or while) answering. */
function gate(): { started: Promise<void>; enter(): void; wait: Promise<void>; release(): void } {
  let enter!: () => void;
  let release!: () => void;
  const started = new Promise<void>((resolve) => (enter = resolve));
  const wait = new Promise<void>((resolve) => (release = resolve));
  return { started, enter, wait, release };
}

describe('httpServerComponent stop()', () => {
  let component: HttpServerComponent;
  let port: number;
  let hold: ReturnType<typeof gate>;
  const handled: string[] = [];
  const sockets: Socket[] = [];

  async function open(bytes: string): Promise<RawSocket> {
    const raw = await rawSocket(port, bytes);
    sockets.push(raw.socket);
    return raw;
  }

  beforeEach(async () => {
    hold = gate();
    handled.length = 0;
    const logs = logCollector();
    const logger = createLogger({ service: 'http-server-test', destination: logs.stream });
    const app = createHttpService({
      logger,
      metrics: createMetricsRegistry('http-server-test'),
      health: new HealthRegistry('http-server-test'),
      routes(routes) {
        routes.get('/hello', (_req, res) => {
          res.json({ hello: 'world' });
        });
        routes.post('/notes', (req, res) => {
          handled.push(JSON.stringify(req.body));
          res.status(201).json(req.body);
        });
        routes.get('/held', async (_req, res) => {
          hold.enter();
          await hold.wait;
          res.json({ held: true });
        });
        routes.get('/streamed', async (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first part;');
          hold.enter();
          await hold.wait;
          res.end('last part');
        });
      },
    });
    component = httpServerComponent(app, { port: 0, host: '127.0.0.1', logger });
    // An upgraded socket leaves the HTTP parser but stays a connection of the server.
    component.server.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      socket.on('data', (chunk) => socket.write(chunk));
    });
    await component.start();
    port = Number(new URL(component.url()).port);
  });

  afterEach(async () => {
    hold.release();
    for (const socket of sockets.splice(0)) socket.destroy();
    await component.stop();
  });

  // Each of these held stop() until the process deadline before: it waited for every connection to end.
  it.each([
    ['a connection that never sent a byte', ''],
    ['half a request line', 'GET /hel'],
    ['half the headers (slowloris)', `GET /hello HTTP/1.1\r\n${HOST}Accept: `],
    [
      'a request whose body is still arriving',
      `POST /notes HTTP/1.1\r\n${HOST}Content-Type: application/json\r\nContent-Length: 64\r\n\r\n{"text":`,
    ],
  ])('closes %s at once and resolves', async (_kind, bytes) => {
    const raw = await open(bytes);
    await component.stop();
    await raw.closed;
    expect(handled).toEqual([]);
  });

  it('closes an idle keep-alive connection between requests', async () => {
    const raw = await open(`GET /hello HTTP/1.1\r\n${HOST}Connection: keep-alive\r\n\r\n`);
    await raw.waitFor('"hello":"world"');
    await component.stop();
    await raw.closed;
  });

  it('closes an upgraded connection', async () => {
    const raw = await open(`GET /echo HTTP/1.1\r\n${HOST}Connection: Upgrade\r\nUpgrade: echo\r\n\r\n`);
    await raw.waitFor('101 Switching Protocols');
    raw.socket.write('ping');
    await raw.waitFor('ping');
    await component.stop();
    await raw.closed;
  });

  it('lets an in-flight request finish with its full answer and Connection: close, beside quiet sockets', async () => {
    const quiet = await open('');
    const answer = fetch(`${component.url()}/held`);
    await hold.started;
    const stopped = component.stop();
    await quiet.closed;
    hold.release();
    const response = await answer;
    expect(response.status).toBe(200);
    expect(response.headers.get('connection')).toBe('close');
    expect(await response.json()).toEqual({ held: true });
    await stopped;
  });

  it('lets an answer whose keep-alive headers were already sent finish, then closes its socket', async () => {
    const raw = await open(`GET /streamed HTTP/1.1\r\n${HOST}Connection: keep-alive\r\n\r\n`);
    await raw.waitFor('first part;');
    expect(raw.received()).toContain('Connection: keep-alive');
    const stopped = component.stop();
    hold.release();
    await raw.closed;
    await stopped;
    expect(raw.received()).toContain('last part');
    expect(raw.received()).toMatch(/0\r\n\r\n$/); // the chunked answer's end
  });

  describe('drain()', () => {
    /** Whether `closed` settles within `ms`. */
    async function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
      return Promise.race([
        closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
      ]);
    }

    it('leaves an idle keep-alive connection open; its next answer carries Connection: close, then it closes', async () => {
      const raw = await open(`GET /hello HTTP/1.1\r\n${HOST}Connection: keep-alive\r\n\r\n`);
      await raw.waitFor('"hello":"world"');
      expect(raw.received()).toContain('Connection: keep-alive');
      component.drain();
      // Closing it now would race with a request the client may be sending on it at this moment.
      expect(await closesWithin(raw.closed, 300)).toBe(false);
      const before = raw.received().length;
      raw.socket.write(`GET /hello HTTP/1.1\r\n${HOST}Connection: keep-alive\r\n\r\n`);
      await raw.closed;
      const second = raw.received().slice(before);
      expect(second).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(second).toContain('Connection: close');
      expect(second).toContain('"hello":"world"');
    });

    it('still accepts new connections and answers them with Connection: close', async () => {
      component.drain();
      const raw = await open(`GET /hello HTTP/1.1\r\n${HOST}Connection: keep-alive\r\n\r\n`);
      await raw.closed;
      expect(raw.received()).toContain('Connection: close');
      expect(raw.received()).toContain('"hello":"world"');
    });

    it('answers an in-flight request whose headers are not sent yet with Connection: close', async () => {
      const raw = await open(`GET /held HTTP/1.1\r\n${HOST}Connection: keep-alive\r\n\r\n`);
      await hold.started;
      component.drain();
      hold.release();
      await raw.closed;
      expect(raw.received()).toContain('Connection: close');
      expect(raw.received()).toContain('"held":true');
    });
  });
});
