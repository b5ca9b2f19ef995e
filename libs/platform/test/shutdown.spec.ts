import { Agent, get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EX_USAGE } from '../src/index';
import {
  createTestDatabase,
  spawnTsx,
  waitFor,
  type SpawnedProcess,
  type TestDatabase,
} from '../src/testing';
import { closedPort, FIXTURE_MAIN, rawSocket } from './support';

/** Whether a TCP connection to the port is refused (resolves within the bounded connect). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 500 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A keep-alive connection that has had one answer and now sits idle; `closed` settles when the server closes it. */
async function idleKeepAliveSocket(port: number): Promise<{ closed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1' });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('"hello"')) resolve();
    });
    socket.write('GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  });
  return { closed };
}

/** One GET through `agent` (a keep-alive pool); its status and `Connection` header, or the request's error. */
function keepAliveGet(agent: Agent, url: string): Promise<{ status: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent, timeout: 5000 }, (res) => {
      res.resume();
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    request.once('error', reject);
    request.once('timeout', () => request.destroy(new Error('no answer within 5000 ms')));
  });
}

async function waitUntilRefused(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await refused(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Starting a tsx child takes seconds; on a loaded 2-core machine with other test files running, far more. */
const CHILD_START_MS = 60_000;

describe('a service process', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  const processes: SpawnedProcess[] = [];
  const sockets: Socket[] = [];

  async function start(
    extraEnv: Record<string, string> = {},
    command: 'serve' | 'worker' = 'serve',
  ): Promise<{ proc: SpawnedProcess; port: number }> {
    const port = await closedPort();
    const proc = spawnTsx(FIXTURE_MAIN, [command], {
      PORT: String(port),
      DATABASE_URL: database.url,
      PARTNER_TOKEN: 'token',
      SHUTDOWN_DRAIN_MS: '300',
      ...extraEnv,
    });
    processes.push(proc);
    await proc.waitForOutput('http server listening', CHILD_START_MS);
    return { proc, port };
  }

  beforeAll(async () => {
    database = await createTestDatabase('platform_shutdown');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await database?.drop();
  });

  it('on SIGTERM fails readiness, closes idle and refuses new connections, finishes the in-flight request and exits 0', async () => {
    const { proc, port } = await start();
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    const idle = await idleKeepAliveSocket(port);
    let slowAnswered = false;
    // Long enough that every check below (each bounded at 2 s) ends before it, even on a loaded CI machine.
    const slow = fetch(`${base}/slow?ms=5000`).finally(() => (slowAnswered = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    proc.child.kill('SIGTERM');
    await proc.waitForOutput('shutdown begins');

    const ready = await fetch(`${base}/health/ready`, { headers: { connection: 'close' } });
    expect(ready.status).toBe(503);
    expect(await waitUntilRefused(port, 2000)).toBe(true);
    const idleClosed = await Promise.race([
      idle.closed.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000)),
    ]);
    expect(idleClosed).toBe(true);
    expect(slowAnswered).toBe(false);

    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('connection')).toBe('close');
    expect(await answer.json()).toEqual({ waited: 5000 });
    expect(await proc.exited()).toBe(0);
    expect(proc.stdout()).toContain('shutdown complete');
  });

  it('on SIGTERM closes every socket without an in-flight answer after the drain and exits 0 before the deadline, still answering the in-flight request', async () => {
    // The deadline exits 1: exit code 0 is the proof that no socket held the shutdown until then.
    const { proc, port } = await start({ SHUTDOWN_DRAIN_MS: '300', SHUTDOWN_TIMEOUT_MS: '4000' });
    const quiet = await Promise.all([
      rawSocket(port, ''), // connected, never sent a byte
      rawSocket(port, 'GET /hel'), // half a request line
      rawSocket(port, 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: '), // half the headers (slowloris)
      rawSocket(
        port,
        'POST /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n{"text":',
      ), // headers sent, body still arriving: never reached the handler
    ]);
    sockets.push(...quiet.map((raw) => raw.socket));
    const slow = fetch(`http://127.0.0.1:${port}/slow?ms=1500`);
    await proc.waitForOutput('slow request started');

    proc.child.kill('SIGTERM');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('connection')).toBe('close');
    expect(await answer.json()).toEqual({ waited: 1500 });
    expect(await proc.exited(10_000)).toBe(0);
    await Promise.all(quiet.map((raw) => raw.closed));
  });

  it('on SIGTERM tells busy keep-alive clients to reconnect (Connection: close) during the drain: not one request fails', async () => {
    // Swarm's routing mesh (IPVS) and marathon-lb balance connections: a keep-alive connection stays on this
    // task after readiness fails. Without drain() the answers kept saying keep-alive, the clients kept
    // sending, and stop() (or the closed listener) failed their next request: ECONNRESET, ECONNREFUSED.
    const { proc, port } = await start({ SHUTDOWN_DRAIN_MS: '1000', SHUTDOWN_TIMEOUT_MS: '5000' });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const errors: string[] = [];
    /** The `Connection` header of every answer to a request sent after the shutdown began. */
    const afterSignal: Array<string | undefined> = [];
    let signalled = false;
    let answered = 0;
    /** Clients that stopped because an answer said `Connection: close`. */
    let toldToReconnect = 0;
    const until = Date.now() + 30_000;
    async function client(): Promise<void> {
      for (let sent = 0; sent < 2000 && Date.now() < until; sent++) {
        const sentAfterSignal = signalled;
        try {
          const answer = await keepAliveGet(agent, `http://127.0.0.1:${port}/hello`);
          expect(answer.status).toBe(200);
          answered++;
          if (sentAfterSignal) afterSignal.push(answer.connection);
          // Told to reconnect: through a load balancer the next connection goes to another task.
          if (answer.connection === 'close') {
            toldToReconnect++;
            return;
          }
        } catch (error) {
          errors.push(`${(error as NodeJS.ErrnoException).code ?? ''} ${(error as Error).message}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    try {
      const clients = Promise.all([client(), client(), client(), client()]);
      await waitFor('a steady stream of answers', () => answered >= 40, CHILD_START_MS);
      proc.child.kill('SIGTERM');
      await proc.waitForOutput('shutdown begins');
      signalled = true;
      await clients;
      expect(errors).toEqual([]);
      // Every client was told to reconnect. Answers to requests sent once the parent read 'shutdown begins'
      // all say close (there may be none: on a loaded machine the log line can arrive after every client
      // already got its close).
      expect(toldToReconnect).toBe(4);
      expect(afterSignal).toEqual(afterSignal.map(() => 'close'));
      // Exit 0 is the proof it finished before its SHUTDOWN_TIMEOUT_MS deadline (which exits 1); a wall-clock
      // bound here would measure the loaded machine, not the service.
      expect(await proc.exited(10_000)).toBe(0);
      expect(proc.stdout()).toContain('http server draining');
    } finally {
      agent.destroy();
    }
  });

  it("a worker's health server closes its quiet sockets too and the worker exits 0 before the deadline", async () => {
    const { proc, port } = await start({ SHUTDOWN_DRAIN_MS: '300', SHUTDOWN_TIMEOUT_MS: '4000' }, 'worker');
    const quiet = await Promise.all([
      rawSocket(port, ''),
      rawSocket(port, 'GET /health/rea'),
      rawSocket(port, 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n'),
    ]);
    sockets.push(...quiet.map((raw) => raw.socket));
    proc.child.kill('SIGTERM');
    expect(await proc.exited(10_000)).toBe(0);
    await Promise.all(quiet.map((raw) => raw.closed));
  });

  it('a signal during start is held: the service finishes starting, then shuts down gracefully (exit 0)', async () => {
    const port = await closedPort();
    const proc = spawnTsx(FIXTURE_MAIN, ['worker'], {
      PORT: String(port),
      DATABASE_URL: database.url,
      PARTNER_TOKEN: 'token',
      SHUTDOWN_DRAIN_MS: '0',
      FIXTURE_WORKER_START_MS: '1500',
    });
    processes.push(proc);
    await proc.waitForOutput('fixture worker starting slowly', CHILD_START_MS);
    proc.child.kill('SIGTERM');
    expect(await proc.exited(20_000)).toBe(0);
    const out = proc.stdout();
    expect(out).toContain('http server listening');
    expect(out.indexOf('shutdown begins')).toBeGreaterThan(out.indexOf('http server listening'));
    expect(out).toContain('shutdown complete');
  });

  it('exits 1 at once on a second signal', async () => {
    const { proc, port } = await start({ SHUTDOWN_DRAIN_MS: '5000' });
    proc.child.kill('SIGTERM');
    await proc.waitForOutput('shutdown begins');
    proc.child.kill('SIGTERM');
    expect(await proc.exited(10_000)).toBe(1);
    expect(await refused(port)).toBe(true);
  });

  it('migrate --create-database creates a missing database once, and migrates', async () => {
    const missing = await createTestDatabase('created');
    await missing.drop(); // a name that does not exist; drop() again cleans up what the command creates
    const env = { DATABASE_URL: missing.url, PARTNER_TOKEN: 'token' };
    try {
      const first = spawnTsx(FIXTURE_MAIN, ['migrate', '--create-database'], env);
      processes.push(first);
      expect(await first.exited(CHILD_START_MS)).toBe(0);
      expect(first.stdout()).toContain('created the database of DATABASE_URL');
      const again = spawnTsx(FIXTURE_MAIN, ['migrate', '--create-database'], env);
      processes.push(again);
      expect(await again.exited(CHILD_START_MS)).toBe(0);
      expect(again.stdout()).not.toContain('created the database');
    } finally {
      await missing.drop();
    }
  });

  it('runs a named job once: 0 on success, 1 on failure, 64 for an unknown name', async () => {
    const env = { DATABASE_URL: database.url, PARTNER_TOKEN: 'token' };
    const [ok, failed, unknown] = [
      spawnTsx(FIXTURE_MAIN, ['run-job', 'succeed'], env),
      spawnTsx(FIXTURE_MAIN, ['run-job', 'explode'], env),
      spawnTsx(FIXTURE_MAIN, ['run-job', 'nope'], env),
    ];
    processes.push(ok, failed, unknown);
    expect(await ok.exited(CHILD_START_MS)).toBe(0);
    expect(ok.stdout()).toContain('job ran');
    expect(await failed.exited(CHILD_START_MS)).toBe(1);
    expect(failed.stdout()).toContain('job failed on purpose');
    expect(await unknown.exited(CHILD_START_MS)).toBe(EX_USAGE);
    expect(unknown.stderr()).toContain('unknown job "nope"; known jobs: succeed, explode');
  });
});
