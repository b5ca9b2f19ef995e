import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { generateKeyringEntry } from '@ittd/platform';
import { createTestDatabase, spawnTsx, testRedisUrl, type TestDatabase } from '@ittd/platform/testing';

const MAIN = 'src/main.ts';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('applets_cli');
});

afterAll(async () => {
  await database?.drop();
});

describe('src/main.ts', () => {
  it('describe-config lists the service settings and marks the secrets', async () => {
    const proc = spawnTsx(MAIN, ['describe-config']);
    expect(await proc.exited()).toBe(0);
    const described = JSON.parse(proc.stdout()) as { env: { name: string; secret: boolean }[] };
    const secrets = described.env.filter((field) => field.secret).map((field) => field.name);
    expect(secrets.sort()).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'EVENTS_SECRETS_KEYS',
      'METRICS_TOKEN',
      'REDIS_URL',
      'SECRETS_KEYS',
    ]);
    expect(described.env.map((field) => field.name)).toContain('API_RATE_LIMIT_PER_MINUTE');
  });

  it('exits 78 on bad config, naming the fields without printing the secret', async () => {
    const proc = spawnTsx(MAIN, ['serve'], { ADMIN_TOKEN: 'short-secret-value', REDIS_URL: testRedisUrl() });
    expect(await proc.exited()).toBe(78);
    expect(proc.stderr()).toContain('DATABASE_URL');
    expect(proc.stderr()).toContain('ADMIN_TOKEN');
    expect(proc.stderr()).not.toContain('short-secret-value');
  });

  it('migrate creates the schema and exits 0', async () => {
    const proc = spawnTsx(MAIN, ['migrate'], {
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      ADMIN_TOKEN: 'a-long-enough-admin-token-for-tests',
      SECRETS_KEYS: generateKeyringEntry('cli'),
      EVENTS_SECRETS_KEYS: generateKeyringEntry('cli-events'),
      LOG_LEVEL: 'warn',
    });
    expect(await proc.exited()).toBe(0);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['api_tokens', 'applets', 'partner_services', 'users']),
      );
    } finally {
      await client.end();
    }
  });
});
