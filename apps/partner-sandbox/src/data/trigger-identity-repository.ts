import { sql } from 'kysely';
import type { PartnerSandboxDatabase } from './database';

/** A trigger identity the engine polled. */
export interface KnownTriggerIdentity {
  triggerIdentity: string;
  triggerSlug: string;
  triggerFields: unknown;
  userId: string | null;
  firstPolledAt: string;
  lastPolledAt: string;
}

/** How stale `last_polled_at` may get before a poll with unchanged details writes it again (seconds). */
export const LAST_POLLED_PRECISION_SECONDS = 60;

/**
 * Records a poll of a trigger identity (its slug, fields and user as last sent). A poll with the same
 * details writes nothing unless `last_polled_at` is older than {@link LAST_POLLED_PRECISION_SECONDS}, so a
 * benchmark's thousands of polls a second do not each cost a row update.
 *
 * @example
 *   await recordPoll(db, { triggerIdentity: 'ti_1', triggerSlug: 'new_item', triggerFields: { list: 'inbox' } });
 */
export async function recordPoll(
  db: PartnerSandboxDatabase,
  poll: { triggerIdentity: string; triggerSlug: string; triggerFields: unknown; userId?: string },
): Promise<void> {
  const values = {
    trigger_identity: poll.triggerIdentity,
    trigger_slug: poll.triggerSlug,
    trigger_fields: JSON.stringify(poll.triggerFields),
    user_id: poll.userId ?? null,
  };
  await db
    .insertInto('trigger_identities')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('trigger_identity')
        .doUpdateSet({
          trigger_slug: values.trigger_slug,
          trigger_fields: values.trigger_fields,
          user_id: values.user_id,
          last_polled_at: sql<Date>`now()`,
        })
        .where((eb) =>
          eb.or([
            eb(
              'trigger_identities.last_polled_at',
              '<',
              sql<Date>`now() - make_interval(secs => ${LAST_POLLED_PRECISION_SECONDS})`,
            ),
            sql<boolean>`(trigger_identities.trigger_slug, trigger_identities.trigger_fields, trigger_identities.user_id)
            IS DISTINCT FROM (excluded.trigger_slug, excluded.trigger_fields, excluded.user_id)`,
          ]),
        ),
    )
    .execute();
}

/**
 * Forgets a trigger identity of a trigger; false when it was not known.
 *
 * @example
 *   if (!(await forgetTriggerIdentity(db, 'new_item', 'ti_1'))) throw notFound();
 */
export async function forgetTriggerIdentity(
  db: PartnerSandboxDatabase,
  triggerSlug: string,
  triggerIdentity: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('trigger_identities')
    .where('trigger_identity', '=', triggerIdentity)
    .where('trigger_slug', '=', triggerSlug)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * The known trigger identities, most recently polled first, at most `limit`; only those of `triggerSlug`
 * when given.
 *
 * @example
 *   const identities = await listTriggerIdentities(db, { triggerSlug: 'new_item', limit: 1000 });
 */
export async function listTriggerIdentities(
  db: PartnerSandboxDatabase,
  options: { triggerSlug?: string; limit: number },
): Promise<KnownTriggerIdentity[]> {
  let query = db
    .selectFrom('trigger_identities')
    .selectAll()
    .orderBy('last_polled_at', 'desc')
    .orderBy('trigger_identity')
    .limit(options.limit);
  if (options.triggerSlug !== undefined) query = query.where('trigger_slug', '=', options.triggerSlug);
  const rows = await query.execute();
  return rows.map((row) => ({
    triggerIdentity: row.trigger_identity,
    triggerSlug: row.trigger_slug,
    triggerFields: row.trigger_fields,
    userId: row.user_id,
    firstPolledAt: row.first_polled_at.toISOString(),
    lastPolledAt: row.last_polled_at.toISOString(),
  }));
}
