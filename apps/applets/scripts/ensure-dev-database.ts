/**
 * Dev only: `npx nx serve` runs this before the service, so a fresh checkout serves without a manual
 * `createdb`. Creates the database of DATABASE_URL (from `.env.example`) if it is missing; deployed
 * databases are provisioned, never created by the service.
 *
 * @example
 *   npx tsx --env-file=.env.example scripts/ensure-dev-database.ts
 */
import { ensureDatabase } from '@ittd/platform';

ensureDatabase(process.env.DATABASE_URL ?? '').then(
  (created) => {
    if (created) process.stdout.write('created the database of DATABASE_URL\n');
  },
  (error: unknown) => {
    process.stderr.write(`could not ensure the database of DATABASE_URL: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
