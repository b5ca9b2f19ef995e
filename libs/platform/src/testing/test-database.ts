import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The admin connection tests use to create and drop their databases (trust auth, local only). */
export const TEST_POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A throw-away database. */
export interface TestDatabase {
  name: string;
  url: string;
  /**
   * Drops the database: waits up to 2 s for connections still closing, then terminates the rest; call it in
   * `afterAll`.
   */
  drop(): Promise<void>;
}

/**
 * Runs a task on a short-lived connection to the admin database (create, inspect or drop test databases).
 *
 * @example
 * const exists = await withAdminClient((client) => client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
 */
export async function withAdminClient<T>(task: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_ADMIN_URL });
  // A lost connection fails the running query; without a listener its 'error' event would crash the test run.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await task(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates a uniquely named, empty Postgres database so each test file runs in isolation and in parallel.
 *
 * @example
 * let database: TestDatabase;
 * beforeAll(async () => { database = await createTestDatabase('applets'); });
 * afterAll(() => database.drop());
 */
export async function createTestDatabase(prefix = 'ittd'): Promise<TestDatabase> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdminClient(async (client) => {
        // Connections a test closed may still be ending (pg's pool.end() resolves before each backend is
        // gone); terminating them mid-goodbye makes pg emit an 'error' nobody listens to any more, which
        // fails the test run. So wait for them a little (bounded), then force whatever is left.
        const deadline = Date.now() + 2000;
        for (;;) {
          const { rows } = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0].n === 0 || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}
