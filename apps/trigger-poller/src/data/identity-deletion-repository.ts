import { sql, type Selectable } from 'kysely';
import type { TriggerIdentityDeletionsTable, TriggerPollerDatabase } from './database';

/** A partner DELETE still to be sent. */
export type IdentityDeletionRow = Selectable<TriggerIdentityDeletionsTable>;

/**
 * The pending DELETE of a trigger identity; `undefined` when there is none (sent, cancelled, never recorded).
 *
 * @example
 *   const pending = await findIdentityDeletion(db, 'ti_1');
 */
export async function findIdentityDeletion(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<IdentityDeletionRow | undefined> {
  return db
    .selectFrom('trigger_identity_deletions')
    .selectAll()
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirst();
}

/**
 * Removes a pending DELETE: the partner confirmed it (2xx, or 404: it did not know the identity), or the
 * identity is subscribed again.
 *
 * @example
 *   await finishIdentityDeletion(db, 'ti_1');
 */
export async function finishIdentityDeletion(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<void> {
  await db.deleteFrom('trigger_identity_deletions').where('trigger_identity', '=', triggerIdentity).execute();
}

/**
 * Records a failed DELETE attempt: one more attempt, the error, and either the time of the next attempt
 * (`retryInMs` from now) or, with `giveUp`, `gave_up_at` (after a 401/403 or the last attempt; a new partner
 * key makes it pending again).
 *
 * @example
 *   await recordDeletionFailure(db, 'ti_1', 'partner weather answered HTTP 503', { retryInMs: 4000 });
 */
export async function recordDeletionFailure(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  error: string,
  next: { retryInMs: number } | { giveUp: true },
): Promise<void> {
  await db
    .updateTable('trigger_identity_deletions')
    .set({
      attempts: sql<number>`attempts + 1`,
      last_error: error.slice(0, 2000),
      ...('giveUp' in next
        ? { gave_up_at: sql<Date>`now()` }
        : { next_attempt_at: sql<Date>`now() + make_interval(secs => ${next.retryInMs / 1000})` }),
    })
    .where('trigger_identity', '=', triggerIdentity)
    .execute();
}

/**
 * Pending DELETEs whose attempt is due by more than `overdueSeconds` (their job was lost: enqueued after a
 * commit that a crash cut short, or a Redis loss), at most `limit`; their `next_attempt_at` moves
 * `overdueSeconds` ahead so the next sweep does not take them again while the job runs.
 *
 * @example
 *   const lost = await claimOverdueDeletions(db, { overdueSeconds: 120, limit: 1000 });
 */
export async function claimOverdueDeletions(
  db: TriggerPollerDatabase,
  { overdueSeconds, limit }: { overdueSeconds: number; limit: number },
): Promise<string[]> {
  const rows = await db
    .updateTable('trigger_identity_deletions')
    .set({ next_attempt_at: sql<Date>`now() + make_interval(secs => ${overdueSeconds})` })
    .where(
      'trigger_identity',
      'in',
      db
        .selectFrom('trigger_identity_deletions')
        .select('trigger_identity')
        .where('gave_up_at', 'is', null)
        .where('next_attempt_at', '<', sql<Date>`now() - make_interval(secs => ${overdueSeconds})`)
        .orderBy('next_attempt_at')
        .limit(limit),
    )
    .returning('trigger_identity')
    .execute();
  return rows.map((row) => row.trigger_identity);
}

/**
 * Every pending (not given up) DELETE's identity: what the handler that recorded them enqueues after its commit.
 *
 * @example
 *   const ids = await pendingDeletionsAmong(db, ['ti_1', 'ti_2']);
 */
export async function pendingDeletionsAmong(
  db: TriggerPollerDatabase,
  triggerIdentities: readonly string[],
): Promise<string[]> {
  if (triggerIdentities.length === 0) return [];
  const rows = await db
    .selectFrom('trigger_identity_deletions')
    .select('trigger_identity')
    .where('trigger_identity', 'in', [...triggerIdentities])
    .where('gave_up_at', 'is', null)
    .execute();
  return rows.map((row) => row.trigger_identity);
}
