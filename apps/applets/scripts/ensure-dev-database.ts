/**
 * Development helper run by `npx nx serve applets` before the service: creates the database named in
 * DATABASE_URL when it does not exist yet, so a fresh checkout serves without a manual `createdb`. It
 * connects to the server's `postgres` database to do so. Production databases are provisioned, never
 * created by the service.
 *
 * @example
 *   npx tsx --env-file=.env.example scripts/ensure-dev-database.ts
 */
import pg from 'pg';

async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`refusing to create database ${JSON.stringify(name)}`);
  const server = new URL(databaseUrl);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${name}`);
      process.stdout.write(`created database ${name}\n`);
    }
  } finally {
    await client.end();
  }
}

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined) {
  process.stderr.write('DATABASE_URL is not set\n');
  process.exit(78);
}
ensureDatabase(databaseUrl).catch((error: unknown) => {
  process.stderr.write(
    `could not ensure the dev database: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
