import pg from 'pg';

/** The database a URL names; throws without echoing the URL, which may hold a password. */
function databaseName(databaseUrl: string): string {
  if (databaseUrl === '') throw new Error('ensureDatabase needs a postgres:// URL, got an empty string');
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error('ensureDatabase needs a postgres:// URL (value hidden: it may hold a password)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error(`ensureDatabase needs a postgres:// URL, got a ${url.protocol}// one`);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (name === '') throw new Error('ensureDatabase needs a URL naming a database (postgres://host/<name>)');
  return name;
}

/**
 * Creates the database named in a Postgres URL if it does not exist yet; resolves `true` if it created it,
 * `false` if it was there already (concurrent calls take turns: one creates, the others find it). It
 * connects to the same server's maintenance database `postgres` as the URL's user, who needs CREATEDB.
 * Meant for development (`nx serve` on a fresh checkout): deployed databases are provisioned, never created
 * by services.
 *
 * @example
 * // apps/<service>/scripts/ensure-dev-database.ts, run before `tsx watch src/main.ts serve`
 * if (await ensureDatabase(process.env.DATABASE_URL ?? '')) console.log('created the dev database');
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5000 });
  // A connection lost mid-way fails the pending query; without a listener its 'error' event would crash.
  client.on('error', () => undefined);
  await client.connect();
  try {
    // Concurrent CREATE DATABASE of one name fails on a unique index, so callers take turns on a session
    // lock (CREATE DATABASE cannot run in a transaction); the lock ends with the connection at the latest.
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [`ittd:ensure-database:${name}`]);
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount !== 0) return false;
    await client.query(`create database ${client.escapeIdentifier(name)}`);
    return true;
  } finally {
    await client.end();
  }
}
