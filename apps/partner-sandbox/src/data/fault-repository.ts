import type { Faults } from '../domain/faults';
import type { PartnerSandboxDatabase } from './database';

/** The run-time faults as stored: the faults (without the counter) and the `fail_next` counter. */
export interface StoredFaults {
  faults: Omit<Faults, 'fail_next'>;
  failNext: number;
}

/**
 * The faults set at run time, or `undefined` when none were (the configured ones apply).
 *
 * @example
 *   const stored = await readFaults(db);
 */
export async function readFaults(db: PartnerSandboxDatabase): Promise<StoredFaults | undefined> {
  const row = await db
    .selectFrom('faults')
    .select(['faults', 'fail_next'])
    .where('id', '=', 1)
    .executeTakeFirst();
  return row && { faults: row.faults as StoredFaults['faults'], failNext: row.fail_next };
}

/**
 * Stores the run-time faults (replacing earlier ones), for every replica.
 *
 * @example
 *   await writeFaults(db, { ...faults, error_rate: 0.5 });
 */
export async function writeFaults(db: PartnerSandboxDatabase, faults: Faults): Promise<void> {
  const { fail_next: failNext, ...rest } = faults;
  const values = { id: 1, faults: JSON.stringify(rest), fail_next: failNext };
  await db
    .insertInto('faults')
    .values(values)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ faults: values.faults, fail_next: failNext, updated_at: new Date() }),
    )
    .execute();
}

/** Removes the run-time faults: the configured ones apply again. */
export async function clearFaults(db: PartnerSandboxDatabase): Promise<void> {
  await db.deleteFrom('faults').where('id', '=', 1).execute();
}

/**
 * Takes one of the `fail_next` calls, atomically across replicas: the counter left after taking one, or
 * `undefined` when none was left.
 *
 * @example
 *   if ((await takeFailNext(db)) !== undefined) answerFault();
 */
export async function takeFailNext(db: PartnerSandboxDatabase): Promise<number | undefined> {
  const row = await db
    .updateTable('faults')
    .set((eb) => ({ fail_next: eb('fail_next', '-', 1) }))
    .where('id', '=', 1)
    .where('fail_next', '>', 0)
    .returning('fail_next')
    .executeTakeFirst();
  return row?.fail_next;
}
