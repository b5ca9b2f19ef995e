import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  spawnTsx,
  testRedisUrl,
  type SpawnedProcess,
  type TestDatabase,
} from '../src/testing';
import { CHILD_START_MS, DATASTORE_FIXTURE_MAIN, get, startDatastoreFixture } from './connection-support';
import { closedPort, FIXTURE_MAIN } from './support';

/** The parsed JSON log lines of a process' stdout. */
function logLines(proc: SpawnedProcess): Array<Record<string, unknown>> {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the last resort of a service process', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  const processes: SpawnedProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('platform_last_resort');
  });

  afterAll(async () => {
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await database?.drop();
  });

  it.each([
    ['/crash/rejection', 'unhandledRejection', 'a promise nobody awaits'],
    ['/crash/exception', 'uncaughtException', 'a throw outside any request'],
  ])(
    'logs an error nobody handled (%s) at fatal and exits 1 through the lifecycle',
    async (path, origin, message) => {
      const { proc, base } = await startDatastoreFixture({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl(),
      });
      processes.push(proc);
      expect((await get(`${base}${path}`)).status).toBe(202);
      expect(await proc.exited()).toBe(1);
      const fatal = logLines(proc).find((line) => line.level === 'fatal');
      expect(fatal).toMatchObject({ msg: 'unhandled error; stopping the process', origin, err: { message } });
      const stopped = logLines(proc)
        .filter((line) => line.msg === 'component stopped')
        .map((line) => line.component);
      // Every component stopped (the order is the in-process test's: pino's exit flush may reorder lines).
      expect(stopped.sort()).toEqual(['http-server', 'metrics-server', 'postgres', 'redis']);
    },
  );

  it.each([['serve'], ['migrate']])(
    '%s with Postgres unreachable prints one line saying what, where and why, without the password, and exits 1',
    async (command) => {
      const port = await closedPort();
      const proc = spawnTsx(FIXTURE_MAIN, [command], {
        DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${port}/notes`,
        PARTNER_TOKEN: 'token',
        PORT: String(await closedPort()),
      });
      processes.push(proc);
      expect(await proc.exited(CHILD_START_MS)).toBe(1);
      expect(proc.stderr()).toBe(
        `fixture: cannot run migrations: Postgres at 127.0.0.1:${port}/notes is unreachable ` +
          `(connect ECONNREFUSED 127.0.0.1:${port}); check DATABASE_URL\n`,
      );
      expect(proc.stdout()).not.toContain('hunter2');
    },
  );

  it('worker with Redis unreachable prints one line saying what, where and why, and exits 1', async () => {
    const redisPort = await closedPort();
    const proc = spawnTsx(DATASTORE_FIXTURE_MAIN, ['worker'], {
      DATABASE_URL: database.url,
      REDIS_URL: `redis://:hunter2@127.0.0.1:${redisPort}`,
      PORT: String(await closedPort()),
    });
    processes.push(proc);
    expect(await proc.exited(CHILD_START_MS)).toBe(1);
    expect(proc.stderr()).toMatch(
      new RegExp(
        `^datastore-fixture: cannot start: Redis at 127\\.0\\.0\\.1:${redisPort} is unreachable \\(.+\\); check REDIS_URL\\n$`,
      ),
    );
    expect(proc.stderr() + proc.stdout()).not.toContain('hunter2');
  });
});
