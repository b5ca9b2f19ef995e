import type { SecretKeyring } from '@ittd/platform';
import { sql, type Selectable } from 'kysely';
import type { TriggerFields, TriggerPollerDatabase, TriggerSubscriptionsTable } from './database';
import { partnerKeyContext } from './partner-key-sealing';

/** A subscription as it may leave the service (no key lives here; the partner holds it). */
export type SubscriptionRow = Selectable<TriggerSubscriptionsTable>;

/**
 * What a poll needs: the subscription's request fields and its partner's endpoint and key (`null` when the
 * partner is not known yet: applet.changed and partner-service.changed are separate streams).
 */
export interface PollTarget {
  trigger_identity: string;
  service_slug: string;
  trigger_slug: string;
  trigger_fields: TriggerFields;
  user_timezone: string;
  partner: { api_base_url: string; service_key: string } | null;
}

/** What creating or replacing a subscription stores. */
export interface SubscriptionInput {
  trigger_identity: string;
  service_slug: string;
  trigger_slug: string;
  trigger_fields: TriggerFields;
  user_id: string;
  user_timezone: string;
}

const publicColumns = [
  'trigger_identity',
  'service_slug',
  'trigger_slug',
  'trigger_fields',
  'user_id',
  'user_timezone',
  'managed_by',
  'created_at',
  'updated_at',
  'last_polled_at',
  'baselined_at',
  'next_poll_at',
  'consecutive_failures',
  'last_error',
  'last_failed_at',
] as const;

/**
 * Creates or replaces the subscription of a trigger identity (keeping `created_at`, the polling state and
 * who manages it; a new one is `operator`'s unless `managedBy` says otherwise) and cancels a partner DELETE
 * still pending for it (the identity is in use again). `created` says which happened.
 *
 * @example
 *   const { subscription, created } = await upsertSubscription(db, { trigger_identity: 'ti_1', service_slug: 'weather', ... });
 */
export async function upsertSubscription(
  db: TriggerPollerDatabase,
  input: SubscriptionInput,
  managedBy?: 'applets',
): Promise<{ subscription: SubscriptionRow; created: boolean }> {
  const values = { ...input, trigger_fields: JSON.stringify(input.trigger_fields) };
  const { created, ...subscription } = await db
    .insertInto('trigger_subscriptions')
    .values(managedBy === undefined ? values : { ...values, managed_by: managedBy })
    .onConflict((oc) =>
      oc.column('trigger_identity').doUpdateSet({
        service_slug: values.service_slug,
        trigger_slug: values.trigger_slug,
        trigger_fields: values.trigger_fields,
        user_id: values.user_id,
        user_timezone: values.user_timezone,
        ...(managedBy === undefined ? {} : { managed_by: managedBy }),
        updated_at: sql<Date>`now()`,
      }),
    )
    // xmax is 0 for a row this statement inserted, the updating transaction's id for an updated one.
    .returning([...publicColumns, sql<boolean>`xmax = 0`.as('created')])
    .executeTakeFirstOrThrow();
  await db
    .deleteFrom('trigger_identity_deletions')
    .where('trigger_identity', '=', input.trigger_identity)
    .execute();
  return { subscription, created };
}

/**
 * Finds a subscription.
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
 * Finds what polling a trigger identity needs, the partner's key opened with `keyring`: for the poll job
 * only. Throws `SecretOpenError` for a stored key the keyring cannot open.
 *
 * @example
 *   const target = await findPollTarget(db, 'ti_1', keyring);
 */
export async function findPollTarget(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  keyring: SecretKeyring,
): Promise<PollTarget | undefined> {
  const row = await db
    .selectFrom('trigger_subscriptions as s')
    .leftJoin('partners as p', 'p.slug', 's.service_slug')
    .select([
      's.trigger_identity',
      's.service_slug',
      's.trigger_slug',
      's.trigger_fields',
      's.user_timezone',
      'p.api_base_url',
      'p.service_key_sealed',
    ])
    .where('s.trigger_identity', '=', triggerIdentity)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const { api_base_url, service_key_sealed, ...subscription } = row;
  return {
    ...subscription,
    partner:
      api_base_url === null || service_key_sealed === null
        ? null
        : {
            api_base_url,
            service_key: keyring.open(service_key_sealed, partnerKeyContext(subscription.service_slug)),
          },
  };
}

/**
 * Deletes a subscription and its events (cascade) and records the partner DELETE of its trigger identity
 * (`trigger_identity_deletions`), in the caller's transaction; `false` when there was no subscription.
 *
 * @example
 *   await db.transaction().execute((trx) => removeSubscription(trx, 'ti_1', { requestId: req.id }));
 */
export async function removeSubscription(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  { requestId }: { requestId?: string } = {},
): Promise<boolean> {
  const removed = await db
    .deleteFrom('trigger_subscriptions')
    .where('trigger_identity', '=', triggerIdentity)
    .returning(['service_slug', 'trigger_slug'])
    .executeTakeFirst();
  if (removed === undefined) return false;
  await db
    .insertInto('trigger_identity_deletions')
    .values({ trigger_identity: triggerIdentity, ...removed, request_id: requestId ?? null })
    .onConflict((oc) =>
      oc.column('trigger_identity').doUpdateSet({
        service_slug: removed.service_slug,
        trigger_slug: removed.trigger_slug,
        request_id: requestId ?? null,
        requested_at: sql<Date>`now()`,
        attempts: 0,
        next_attempt_at: sql<Date>`now()`,
        last_error: null,
        gave_up_at: null,
      }),
    )
    .execute();
  return true;
}

/**
 * The trigger identities a notification names, directly or through a user id, among the subscriptions of
 * the partners holding the notifying key only (a partner cannot make the engine poll another partner).
 * Distinct, in no order.
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
    .selectFrom('trigger_subscriptions as s')
    .innerJoin('partners as p', 'p.slug', 's.service_slug')
    .select('s.trigger_identity')
    .distinct()
    .where('p.service_key_sha256', '=', serviceKeySha256)
    .where((eb) =>
      eb.or([
        ...(named.triggerIdentities.length > 0
          ? [eb('s.trigger_identity', 'in', [...named.triggerIdentities])]
          : []),
        ...(named.userIds.length > 0 ? [eb('s.user_id', 'in', [...named.userIds])] : []),
      ]),
    )
    .execute();
  return rows.map((row) => row.trigger_identity);
}

/**
 * Takes up to `limit` trigger identities due for a poll (`next_poll_at` passed, the longest overdue first) and
 * moves their `next_poll_at` `intervalSeconds` ahead in the same statement, so a row is taken once per interval
 * whatever happens to its poll (a failed poll then sets its own backoff, a successful one the next interval).
 * Rows locked by another run are skipped (`FOR UPDATE SKIP LOCKED`), so two runs never take the same row. A
 * failing subscription's `next_poll_at` is pushed out by its backoff, so failing rows never fill the batch in
 * place of healthy ones. Returns the identities taken, the longest overdue first.
 *
 * @example
 *   const due = await claimDueTriggerIdentities(db, { limit: 5000, intervalSeconds: 300 });
 */
export async function claimDueTriggerIdentities(
  db: TriggerPollerDatabase,
  { limit, intervalSeconds }: { limit: number; intervalSeconds: number },
): Promise<string[]> {
  const result = await sql<{ trigger_identity: string; was_due: Date }>`
    with due as (
      select trigger_identity, next_poll_at from trigger_subscriptions
      where next_poll_at <= now()
      order by next_poll_at, trigger_identity
      limit ${limit}
      for update skip locked
    )
    update trigger_subscriptions s
    set next_poll_at = now() + make_interval(secs => ${intervalSeconds})
    from due where s.trigger_identity = due.trigger_identity
    returning s.trigger_identity, due.next_poll_at as was_due`.execute(db);
  return result.rows
    .sort(
      (a, b) =>
        a.was_due.getTime() - b.was_due.getTime() || a.trigger_identity.localeCompare(b.trigger_identity),
    )
    .map((row) => row.trigger_identity);
}

/**
 * Locks a subscription's row for the transaction recording a poll's events and says whether its baseline is
 * done; `undefined` when the subscription is gone. Two polls of one identity thus record one after the other,
 * and only one of them can be the baseline.
 *
 * @example
 *   const state = await lockForRecording(trx, 'ti_1'); // { baselined: false } on the first poll
 */
export async function lockForRecording(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
): Promise<{ baselined: boolean } | undefined> {
  const row = await db
    .selectFrom('trigger_subscriptions')
    .select('baselined_at')
    .where('trigger_identity', '=', triggerIdentity)
    .forUpdate()
    .executeTakeFirst();
  return row === undefined ? undefined : { baselined: row.baselined_at !== null };
}

/** The columns a successful poll sets: polled now, baselined (if not yet), streak cleared, next poll due. */
function polledColumns(intervalSeconds: number) {
  return {
    last_polled_at: sql<Date>`now()`,
    baselined_at: sql<Date>`coalesce(baselined_at, now())`,
    next_poll_at: sql<Date>`now() + make_interval(secs => ${intervalSeconds})`,
    consecutive_failures: 0,
    last_error: null,
  };
}

/** `baselined_at` in RETURNING is the new value: now() (the transaction's start) exactly when this set it. */
const wasBaseline = sql<boolean>`baselined_at = now()`.as('baseline');

/**
 * Records a successful poll: `last_polled_at` and `baselined_at` (if not yet) now, the failure streak
 * cleared, the next regular poll `intervalSeconds` away. Returns `undefined` when the subscription is gone,
 * else whether this poll was its baseline (it set `baselined_at`).
 *
 * @example
 *   await markPolled(trx, 'ti_1', 300); // { baseline: false }
 */
export async function markPolled(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  intervalSeconds: number,
): Promise<{ baseline: boolean } | undefined> {
  const row = await db
    .updateTable('trigger_subscriptions')
    .set(polledColumns(intervalSeconds))
    .where('trigger_identity', '=', triggerIdentity)
    .returning(wasBaseline)
    .executeTakeFirst();
  return row === undefined ? undefined : { baseline: row.baseline };
}

/**
 * {@link markPolled}, but only when the poll brought nothing new: every one of `eventIds` is stored already
 * for the identity (or there are none). One statement, atomic on its own, no recording transaction: the
 * common poll (the partner answers the same latest items) costs one round trip here. Returns `undefined`
 * when it marked nothing: the subscription is gone, or an event is new (then record it with the locked path:
 * {@link lockForRecording}, insert, publish, {@link markPolled} in one transaction).
 *
 * @example
 *   await markPolledIfNothingNew(db, 'ti_1', ['evt_1', 'evt_2'], 300); // { baseline: false } or undefined
 */
export async function markPolledIfNothingNew(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  eventIds: readonly string[],
  intervalSeconds: number,
): Promise<{ baseline: boolean } | undefined> {
  const ids = [...new Set(eventIds)];
  let update = db
    .updateTable('trigger_subscriptions')
    .set(polledColumns(intervalSeconds))
    .where('trigger_identity', '=', triggerIdentity);
  if (ids.length > 0) {
    update = update.where(
      sql<boolean>`(select count(*) from trigger_events e
        where e.trigger_identity = ${triggerIdentity} and e.event_id = any(${ids}::text[])) = ${ids.length}`,
    );
  }
  const row = await update.returning(wasBaseline).executeTakeFirst();
  return row === undefined ? undefined : { baseline: row.baseline };
}

/** Backoff of a failing subscription: `baseSeconds * 2^(failures - 1)`, capped at `maxSeconds`. */
export interface PollBackoff {
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * Records a failed poll: one more consecutive failure, the error (never a key: `PartnerCallError` messages
 * hold none), and `next_poll_at` pushed out by the backoff of the new streak length, between 80% and 100% of
 * `min(maxSeconds, baseSeconds * 2^(failures - 1))` (jitter, so a partner outage does not come back as one
 * burst). Returns the new streak length and next poll time; `undefined` when the subscription is gone.
 *
 * @example
 *   const marked = await markPollFailed(db, 'ti_1', 'partner weather answered HTTP 503', { baseSeconds: 60, maxSeconds: 21_600 });
 *   // { consecutive_failures: 1, next_poll_at: <now + 48..60 s> }
 */
export async function markPollFailed(
  db: TriggerPollerDatabase,
  triggerIdentity: string,
  error: string,
  backoff: PollBackoff,
): Promise<{ consecutive_failures: number; next_poll_at: Date } | undefined> {
  // The exponent is capped so that 2^n stays a small exact double; the cap on seconds does the rest.
  const delaySeconds = sql<number>`least(${backoff.maxSeconds}::float8,
    ${backoff.baseSeconds}::float8 * power(2, least(consecutive_failures, 40)))
    * (0.8 + 0.2 * random())`;
  return db
    .updateTable('trigger_subscriptions')
    .set({
      consecutive_failures: sql<number>`consecutive_failures + 1`,
      last_error: error.slice(0, 2000),
      last_failed_at: sql<Date>`now()`,
      next_poll_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})`,
    })
    .where('trigger_identity', '=', triggerIdentity)
    .returning(['consecutive_failures', 'next_poll_at'])
    .executeTakeFirst();
}
