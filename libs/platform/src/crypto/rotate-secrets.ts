import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { SecretKeyring } from './secret-keyring';

/**
 * A column holding sealed values: its table, the (single, unique) key column that names a row, and the
 * sealing context of a row (the same function the service seals and opens with).
 */
export interface SealedColumn {
  table: string;
  keyColumn: string;
  column: string;
  /** The AAD of the row whose key column (as text) is `key`. */
  context(key: string): string;
}

/** What {@link resealColumns} did, per column: rows looked at and rows sealed again. */
export interface ResealReport {
  table: string;
  column: string;
  examined: number;
  resealed: number;
}

/**
 * Seals every value of the given columns again under the keyring's active key: values sealed under an older
 * key of the ring are opened and sealed again, values still in clear (from before encryption) are sealed.
 * Rows are read in batches by key and each is updated only if its value is still the one read (a concurrent
 * change wins and is already sealed under the active key), so it runs beside the live service, and running
 * it again is a no-op. Values are never logged; a value that cannot be opened (a key missing from the ring)
 * throws {@link SecretOpenError} and stops the run (fix the keyring, run again).
 *
 * @example
 *   await resealColumns(ctx.db, keyring, [{ table: 'partners', keyColumn: 'slug', column: 'service_key',
 *     context: (slug) => `partners.service_key:${slug}` }], { logger: ctx.logger });
 */
export async function resealColumns(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- works on any service's schema by table name
  db: Kysely<any>,
  keyring: SecretKeyring,
  columns: readonly SealedColumn[],
  options: { batchSize?: number; logger?: Logger } = {},
): Promise<ResealReport[]> {
  const batchSize = options.batchSize ?? 500;
  const reports: ResealReport[] = [];
  for (const spec of columns) {
    const report: ResealReport = { table: spec.table, column: spec.column, examined: 0, resealed: 0 };
    const key = sql.ref(spec.keyColumn);
    const column = sql.ref(spec.column);
    let after: string | null = null;
    for (;;) {
      const { rows }: { rows: Array<{ k: string; v: string | null }> } = await sql<{
        k: string;
        v: string | null;
      }>`SELECT ${key}::text AS k, ${column} AS v FROM ${sql.table(spec.table)}
         WHERE ${after === null ? sql`true` : sql`${key}::text > ${after}`}
         ORDER BY ${key}::text LIMIT ${batchSize}`.execute(db);
      for (const row of rows) {
        report.examined += 1;
        if (row.v === null || !keyring.needsReseal(row.v)) continue;
        const fresh = keyring.reseal(row.v, spec.context(row.k));
        const result = await sql`UPDATE ${sql.table(spec.table)} SET ${column} = ${fresh}
          WHERE ${key}::text = ${row.k} AND ${column} = ${row.v}`.execute(db);
        if (Number(result.numAffectedRows ?? 0) > 0) report.resealed += 1;
      }
      if (rows.length < batchSize) break;
      after = rows[rows.length - 1].k;
    }
    options.logger?.info(
      { ...report, activeKeyId: keyring.activeKeyId },
      'secrets sealed again under the active key',
    );
    reports.push(report);
  }
  return reports;
}
