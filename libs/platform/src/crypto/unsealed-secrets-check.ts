import { sql, type Kysely } from 'kysely';
import type { HealthCheck } from '../health/health-types';
import type { SealedColumn } from './rotate-secrets';

/**
 * A readiness check that warns while any of `columns` still holds a value in clear (stored before the
 * service sealed its credentials, left so by the migration that added sealing): `warn` with the count and
 * the command that fixes it (`run-job rotate-secrets`, which seals them), `pass` once every value has the
 * sealed shape (`v1:<key id>:…`, see `SecretKeyring`). Never `fail`: the service works with clear values,
 * they are only exposed in a database dump. One `count(*)` per column and probe, on tables of credentials.
 *
 * @example
 *   ctx.health.add(unsealedSecretsCheck(ctx.db, [{ table: 'partners', keyColumn: 'slug', column: 'service_key_sealed', context }]));
 *   // /health/ready -> checks['secrets:unsealed'] = [{ status: 'warn', observedValue: 2,
 *   //   output: 'credentials stored in clear (2 in partners.service_key_sealed): run `run-job rotate-secrets` …' }]
 */
export function unsealedSecretsCheck(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- works on any service's schema by table name
  db: Kysely<any>,
  columns: readonly SealedColumn[],
): HealthCheck {
  return {
    name: 'secrets',
    measurement: 'unsealed',
    componentType: 'datastore',
    async run() {
      const found: string[] = [];
      let total = 0;
      for (const spec of columns) {
        const column = sql.ref(spec.column);
        const { rows } = await sql<{ n: string }>`
          select count(*) as n from ${sql.table(spec.table)}
          where ${column} is not null and ${column} !~ '^v1:[A-Za-z0-9_.-]{1,32}:'`.execute(db);
        const count = Number(rows[0]?.n ?? 0);
        if (count > 0) found.push(`${count} in ${spec.table}.${spec.column}`);
        total += count;
      }
      if (total === 0) return { status: 'pass', observedValue: 0, observedUnit: 'values in clear' };
      return {
        status: 'warn',
        observedValue: total,
        observedUnit: 'values in clear',
        output: `credentials stored in clear (${found.join(', ')}): run \`run-job rotate-secrets\` to seal them`,
      };
    },
  };
}
