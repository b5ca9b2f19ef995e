import { sql, type Selectable } from 'kysely';
import type { TriggerFields, TriggerPollerDatabase, TriggerSubscriptionsTable } from './database';
import { hashServiceKey } from './service-key-hash';

/** A subscription as it may leave the service: no service key, no key digest. */
export type SubscriptionRow = Omit<
  Selectable<TriggerSubscriptionsTable>,
  'service_key' | 'service_key_sha256'
>;

/** What a poll needs: the partner endpoint, the secret key and the request fields. */
export type PollTarget = Pick<
  Selectable<TriggerSubscriptionsTable>,
  | 'trigger_identity'
  | 'service_slug'
  | 'api_base_url'
  | 'service_key'
  | 'trigger_slug'
  | 'trigger_fields'
  | 'user_timezone'
>;

/** What creating or replacing a subscription stores; the key digest is computed here. */
export interface SubscriptionInput {
  trigger_identity: string;
  service_slug: string;
  api_base_url: string;
  service_key: string;
  trigger_slug: string;
  trigger_fields: TriggerFields;
  user_id: string;
  user_timezone: string;
}

const publicColumns = [
  'trigger_identity',
  'service_slug',
  'api_base_url',
  'trigger_slug',
  'trigger_fields',
  'user_id',
  'user_timezone',
  'created_at',
  'updated_at',
  'last_polled_at',
] as const;

/**
 * Creates or replaces the subscription of a trigger identity (keeping `created_at` and `last_polled_at`);
 * `created` says which happened. Never returns the key.
 *
 * @example
 *   const { subscription, created } = await upsertSubscription(db, { trigger_identity: 'ti_1', ... });
 */
export async function upsertSubscription(
  db: TriggerPollerDatabase,
  input: SubscriptionInput,
): Promise<{ subscription: SubscriptionRow; created: boolean }> {
  const values = {
    ...input,
    trigger_fields: JSON.stringify(input.trigger_fields),
    service_key_sha256: hashServiceKey(input.service_key),
  };
  const { created, ...subscription } = await db
    .insertInto('trigger_subscriptions')
    .values(values)
    .onConflict((oc) =>
      oc.column('trigger_identity').doUpdateSet({
        service_slug: values.service_slug,
        api_base_url: values.api_base_url,
        service_key: values.service_key,
        service_key_sha256: values.service_key_sha256,
        trigger_slug: values.trigger_slug,
        trigger_fields: values.trigger_fields,
        user_id: values.user_id,
        user_timezone: values.user_timezone,
        updated_at: sql<Date>`now()`,
      }),
    )
    // xmax is 0 for a row this statement inserted, the updating transaction's id for an updated one.
    .returning([...publicColumns, sql<boolean>`xmax = 0`.as('created')])
    .executeTakeFirstOrThrow();
  return { subscription, created };
}

/**
 * Finds a subscription without its key.
 *
 * @example
 *   const subscription = await findSubscription(db, 'ti_1');
 */
export async function findSubscription(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<SubscriptionRow | undefined> {
  return db
    .selectFrom('trigger_subscriptions')
    .select(publicColumns)
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirst();
}

/**
 * Finds what polling a trigger identity needs, key included: for the poll job only.
 *
 * @example
 *   const target = await findPollTarget(db, 'ti_1');
 */
export async function findPollTarget(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<PollTarget | undefined> {
  return db
    .selectFrom('trigger_subscriptions')
    .select([
      'trigger_identity',
      'service_slug',
      'api_base_url',
      'service_key',
      'trigger_slug',
      'trigger_fields',
      'user_timezone',
    ])
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirst();
}

/**
 * Deletes a subscription and its events; `false` when there was none.
 *
 * @example
 *   const deleted = await deleteSubscription(db, 'ti_1');
 */
export async function deleteSubscription(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('trigger_subscriptions')
    .where('trigger_identity', '=', triggerIdentity)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Whether any subscription uses the service key with this digest: how a notification is authenticated.
 *
 * @example
 *   if (!(await isKnownServiceKey(db, hashServiceKey(key)))) throw new HttpProblem(401);
 */
export async function isKnownServiceKey(
  db: TriggerPollerDatabase,
  serviceKeySha256: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('trigger_subscriptions')
    .select('trigger_identity')
    .where('service_key_sha256', '=', serviceKeySha256)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The trigger identities a notification names, directly or through a user id, among the subscriptions of
 * the notifying key only (a partner cannot make the engine poll another partner). Distinct, in no order.
 *
 * @example
 *   const identities = await findNotifiedTriggerIdentities(db, keyDigest, { triggerIdentities: ['ti_1'], userIds: ['u7'] });
 */
export async function findNotifiedTriggerIdentities(
  db: TriggerPollerDatabase,
  serviceKeySha256: string,
  named: { triggerIdentities: readonly string[]; userIds: readonly string[] },
): Promise<string[]> {
  if (named.triggerIdentities.length === 0 && named.userIds.length === 0) return [];
  const rows = await db
    .selectFrom('trigger_subscriptions')
    .select('trigger_identity')
    .where('service_key_sha256', '=', serviceKeySha256)
    .where((eb) =>
      eb.or([
        ...(named.triggerIdentities.length > 0
          ? [eb('trigger_identity', 'in', [...named.triggerIdentities])]
          : []),
        ...(named.userIds.length > 0 ? [eb('user_id', 'in', [...named.userIds])] : []),
      ]),
    )
    .execute();
  return rows.map((row) => row.trigger_identity);
}

/**
 * Trigger identities due for a poll: never polled, or last polled more than `intervalSeconds` ago; never
 * polled first, then longest unpolled, at most `limit`.
 *
 * @example
 *   const due = await findDueTriggerIdentities(db, { intervalSeconds: 300, limit: 5000 });
 */
export async function findDueTriggerIdentities(
  db: TriggerPollerDatabase,
  { intervalSeconds, limit }: { intervalSeconds: number; limit: number },
): Promise<string[]> {
  const rows = await db
    .selectFrom('trigger_subscriptions')
    .select('trigger_identity')
    .where((eb) =>
      eb.or([
        eb('last_polled_at', 'is', null),
        eb('last_polled_at', '<', sql<Date>`now() - make_interval(secs => ${intervalSeconds})`),
      ]),
    )
    .orderBy(sql`last_polled_at NULLS FIRST`)
    .limit(limit)
    .execute();
  return rows.map((row) => row.trigger_identity);
}

/**
 * Records that a trigger identity was just polled.
 *
 * @example
 *   await markPolled(db, 'ti_1');
 */
export async function markPolled(db: TriggerPollerDatabase, triggerIdentity: string): Promise<void> {
  await db
    .updateTable('trigger_subscriptions')
    .set({ last_polled_at: sql<Date>`now()` })
    .where('trigger_identity', '=', triggerIdentity)
    .execute();
}
