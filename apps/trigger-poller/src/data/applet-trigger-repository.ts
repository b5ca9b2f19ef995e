import { sql } from 'kysely';
import type { TriggerFields, TriggerPollerDatabase } from './database';
import { removeSubscription, upsertSubscription } from './subscription-repository';

/** An applet's trigger as `applet.changed` carries it (the version and what polling needs). */
export interface AppletTrigger {
  applet_id: string;
  version: number;
  trigger_identity: string;
  /** Enabled and not deleted. */
  enabled: boolean;
  deleted: boolean;
  service_slug: string;
  trigger_slug: string;
  trigger_fields: TriggerFields;
  user_id: string;
  user_timezone: string;
}

/** What applying an applet's change did to the trigger identities it touched. */
export interface AppletTriggerOutcome {
  /** False when the stored copy already had this version or a newer one: nothing changed. */
  applied: boolean;
  /** Identities that got (or kept) a subscription because an enabled applet uses them. */
  subscribed: string[];
  /** Identities whose last enabled applet went: subscription removed, partner DELETE recorded. */
  unsubscribed: string[];
}

/**
 * Takes a transaction-scoped advisory lock per trigger identity (sorted, so two transactions never wait on
 * each other in a circle): two applets of one identity changed at the same time are counted one after the
 * other, so the last one to go always sees that it was the last (READ COMMITTED: the count after the lock
 * sees what the other committed). The admin API's DELETE takes it too.
 *
 * @example
 *   await db.transaction().execute(async (trx) => { await lockIdentities(trx, ['ti_1']); ... });
 */
export async function lockIdentities(
  db: TriggerPollerDatabase,
  identities: readonly string[],
): Promise<void> {
  for (const identity of [...new Set(identities)].sort()) {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`trigger-identity:${identity}`}, 0))`.execute(
      db,
    );
  }
}

/**
 * Brings one trigger identity's subscription in line with the applets: polled while at least one enabled
 * applet uses it. With one or more, the subscription is created or updated from the most recently changed
 * enabled applet (and becomes `applets`-managed); with none, an `applets`-managed subscription is removed and
 * the partner DELETE recorded (an operator's own subscription is left alone). Call inside the transaction
 * holding {@link lockIdentities}' lock.
 */
async function syncIdentity(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  requestId: string | undefined,
): Promise<'subscribed' | 'unsubscribed' | 'unchanged'> {
  const applet = await db
    .selectFrom('applet_triggers')
    .select(['service_slug', 'trigger_slug', 'trigger_fields', 'user_id', 'user_timezone'])
    .where('trigger_identity', '=', triggerIdentity)
    .where('enabled', '=', true)
    .where('deleted', '=', false)
    .orderBy('updated_at', 'desc')
    .orderBy('applet_id')
    .limit(1)
    .executeTakeFirst();
  if (applet !== undefined) {
    await upsertSubscription(db, { trigger_identity: triggerIdentity, ...applet }, 'applets');
    return 'subscribed';
  }
  const subscription = await db
    .selectFrom('trigger_subscriptions')
    .select('managed_by')
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirst();
  if (subscription?.managed_by !== 'applets') return 'unchanged';
  await removeSubscription(db, triggerIdentity, { requestId });
  return 'unsubscribed';
}

/**
 * Applies one `applet.changed` to the stored copy when its `version` is newer than the copy's (else nothing
 * happens: an older event that arrives late is ignored), then re-counts the enabled applets of the identity
 * the applet used before and of the one it uses now (they differ when its trigger fields changed). Run it
 * in the handler's transaction (`withInbox`), so the copy, the subscriptions and the recorded partner
 * DELETEs commit together.
 *
 * @example
 *   const outcome = await applyAppletTrigger(trx, { applet_id: '7', version: 3, trigger_identity: '9c', enabled: false, ... });
 *   // { applied: true, subscribed: [], unsubscribed: ['9c'] }
 */
export async function applyAppletTrigger(
  db: TriggerPollerDatabase,
  applet: AppletTrigger,
  requestId?: string,
): Promise<AppletTriggerOutcome> {
  const previous = await db
    .selectFrom('applet_triggers')
    .select(['version', 'trigger_identity'])
    .where('applet_id', '=', applet.applet_id)
    .forUpdate()
    .executeTakeFirst();
  const nothing = { applied: false, subscribed: [], unsubscribed: [] };
  if (previous !== undefined && previous.version >= applet.version) return nothing;
  const identities = [applet.trigger_identity, ...(previous ? [previous.trigger_identity] : [])];
  await lockIdentities(db, identities);
  const row = { ...applet, trigger_fields: JSON.stringify(applet.trigger_fields) };
  const written = await db
    .insertInto('applet_triggers')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('applet_id')
        .doUpdateSet({
          version: row.version,
          trigger_identity: row.trigger_identity,
          enabled: row.enabled,
          deleted: row.deleted,
          service_slug: row.service_slug,
          trigger_slug: row.trigger_slug,
          trigger_fields: row.trigger_fields,
          user_id: row.user_id,
          user_timezone: row.user_timezone,
          updated_at: sql<Date>`now()`,
        })
        // A concurrent first insert of the same applet may have won meanwhile: still only newer versions.
        .where('applet_triggers.version', '<', row.version),
    )
    .returning('applet_id')
    .executeTakeFirst();
  if (written === undefined) return nothing;
  const outcome: AppletTriggerOutcome = { applied: true, subscribed: [], unsubscribed: [] };
  for (const identity of new Set(identities)) {
    const result = await syncIdentity(db, identity, requestId);
    if (result === 'subscribed') outcome.subscribed.push(identity);
    if (result === 'unsubscribed') outcome.unsubscribed.push(identity);
  }
  return outcome;
}

/**
 * How many enabled applets use a trigger identity (the admin API refuses to delete a subscription they use).
 *
 * @example
 *   if ((await countEnabledApplets(db, 'ti_1')) > 0) throw new HttpProblem(409);
 */
export async function countEnabledApplets(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<number> {
  const row = await db
    .selectFrom('applet_triggers')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('trigger_identity', '=', triggerIdentity)
    .where('enabled', '=', true)
    .where('deleted', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * The applets enabled on a trigger identity, with the `applet.changed` version applied for each, by id: what
 * a recorded trigger event may fire (`trigger-event.recorded`'s `applets`). Read in the transaction that
 * records the event, after the subscription row is locked.
 *
 * @example
 *   const applets = await listEnabledAppletVersions(trx, 'ti_1'); // [{ applet_id: '7', version: 3 }]
 */
export async function listEnabledAppletVersions(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<{ applet_id: string; version: number }[]> {
  return db
    .selectFrom('applet_triggers')
    .select(['applet_id', 'version'])
    .where('trigger_identity', '=', triggerIdentity)
    .where('enabled', '=', true)
    .where('deleted', '=', false)
    .orderBy('applet_id')
    .execute();
}
