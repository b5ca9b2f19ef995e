import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDatabase } from '../src/index';
import { TEST_POSTGRES_ADMIN_URL, withAdminClient } from '../src/testing';

const created: string[] = [];

/** The URL of a database on the test server that does not exist yet, dropped after the file. */
function freshDatabaseUrl(prefix: string): { name: string; url: string } {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  created.push(name);
  const url = new URL(TEST_POSTGRES_ADMIN_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString() };
}

function databaseExists(name: string): Promise<boolean> {
  return withAdminClient(async (client) => {
    const result = await client.query('select 1 from pg_database where datname = $1', [name]);
    return result.rowCount === 1;
  });
}

afterAll(async () => {
  await withAdminClient(async (client) => {
    for (const name of created)
      await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
  });
  for (const name of created) expect(await databaseExists(name)).toBe(false);
});

describe('ensureDatabase', () => {
  it('creates a missing database, then leaves it alone', async () => {
    const { name, url } = freshDatabaseUrl('ensure_db');
    expect(await databaseExists(name)).toBe(false);
    expect(await ensureDatabase(url)).toBe(true);
    expect(await databaseExists(name)).toBe(true);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('create table kept (id int)');
    await client.end();
    expect(await ensureDatabase(url)).toBe(false);
    const again = new pg.Client({ connectionString: url });
    await again.connect();
    const tables = await again.query("select 1 from pg_tables where tablename = 'kept'");
    await again.end();
    expect(tables.rowCount).toBe(1);
  });

  it('quotes the name, so mixed case and odd characters name exactly that database', async () => {
    const { name, url } = freshDatabaseUrl('Ensure "Odd" Db');
    expect(await ensureDatabase(url)).toBe(true);
    expect(await databaseExists(name)).toBe(true);
  });

  it('creates once when called concurrently', async () => {
    const { name, url } = freshDatabaseUrl('ensure_db_race');
    const results = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await databaseExists(name)).toBe(true);
  });

  it('rejects a URL that is not a postgres URL naming a database, without echoing it', async () => {
    await expect(ensureDatabase('not a url with secret-pw')).rejects.toThrow(/postgres:\/\/ URL/);
    await expect(ensureDatabase('not a url with secret-pw')).rejects.not.toThrow(/secret-pw/);
    await expect(ensureDatabase('')).rejects.toThrow(/got an empty string/);
    await expect(ensureDatabase('mysql://root:pw@127.0.0.1/app')).rejects.toThrow(/postgres:\/\/ URL/);
    await expect(ensureDatabase('postgres://postgres@127.0.0.1:5432/')).rejects.toThrow(/naming a database/);
  });
});
