import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A `redis-server` process of a test's own, on a free port, that the test may restart, pause or stop. */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SHUTDOWN: with AOF, every write is on disk first) and starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing (a network blackhole). */
  pause(): void;
  resume(): void;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPing(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Starts `redis-server` on a free port in a temporary directory: with `appendonly: true` it persists every
 * write (AOF), without it nothing at all (no RDB either), so a restart empties it.
 *
 * @example
 * const own = await startOwnRedis({ appendonly: true });
 * afterAll(() => own.stop());
 */
export async function startOwnRedis({
  appendonly,
  args = [],
}: {
  appendonly: boolean;
  /** More `redis-server` arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: string[];
}): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'jobs-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const launch = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        appendonly ? 'yes' : 'no',
        ...args,
      ],
      { stdio: 'ignore' },
    );
    await waitForPing(url);
  };
  const shutdown = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGCONT');
    running.kill('SIGTERM'); // redis-server shuts down cleanly on SIGTERM (AOF flushed and fsynced)
    await exited;
    child = null;
  };
  await launch();
  return {
    url,
    port,
    async restart() {
      await shutdown();
      await launch();
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      await shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
