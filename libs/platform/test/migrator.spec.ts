import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  createDatabase,
  migrationTableName,
  runMigrations,
  type Database,
  type Migrations,
} from '../src/index';
import { createTestDatabase, type TestDatabase } from '../src/testing';

interface DB {
  runs: { migration: string };
}

/** Each migration records that it ran; the first one is slow so two starts overlap. */
const migrations: Migrations = {
  '0001-create-runs': {
    async up(db) {
      await db.schema
        .createTable('runs')
        .addColumn('migration', 'text', (c) => c.notNull())
        .execute();
      await sql`select pg_sleep(0.3)`.execute(db);
      await db.insertInto('runs').values({ migration: '0001' }).execute();
    },
  },
  '0002-second': {
    async up(db) {
      await db.insertInto('runs').values({ migration: '0002' }).execute();
    },
  },
};

describe('runMigrations', () => {
  let testDb: TestDatabase;
  const databases: Array<Database<DB>> = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('platform_migrator');
  });

  afterAll(async () => {
    await Promise.all(databases.map((database) => database.component.stop()));
    await testDb?.drop();
  });

  it('applies each migration once when two instances start at the same time', async () => {
    const [first, second] = [0, 1].map(() =>
      createDatabase<DB>({ DATABASE_URL: testDb.url, DATABASE_POOL_MAX: 2 }),
    );
    databases.push(first, second);
    const results = await Promise.all([
      runMigrations(first.db, { service: 'applets', migrations }),
      runMigrations(second.db, { service: 'applets', migrations }),
    ]);
    expect(results.map((applied) => applied.length).sort()).toEqual([0, 2]);
    expect(results.flat()).toEqual(['0001-create-runs', '0002-second']);
    const runs = await first.db.selectFrom('runs').select('migration').orderBy('migration').execute();
    expect(runs.map((run) => run.migration)).toEqual(['0001', '0002']);
    const recorded = await sql<{
      name: string;
    }>`select name from ${sql.table(migrationTableName('applets'))} order by name`.execute(first.db);
    expect(recorded.rows.map((row) => row.name)).toEqual(['0001-create-runs', '0002-second']);
  });

  it('applies nothing on a later start and reports a failing migration', async () => {
    const database = createDatabase<DB>({ DATABASE_URL: testDb.url });
    databases.push(database);
    expect(await runMigrations(database.db, { service: 'applets', migrations })).toEqual([]);
    const broken: Migrations = {
      ...migrations,
      '0003-broken': {
        async up(db) {
          await sql`select * from no_such_table`.execute(db);
        },
      },
    };
    await expect(runMigrations(database.db, { service: 'applets', migrations: broken })).rejects.toThrow(
      /no_such_table/,
    );
    // The lock was released: another run gets through (and fails on the same migration, not on the lock).
    await expect(runMigrations(database.db, { service: 'applets', migrations: broken })).rejects.toThrow(
      /no_such_table/,
    );
  });
});
