import type { TriggerEventRecordedEvent } from '@ittd/engine-events';
import { sql, type Selectable } from 'kysely';
import type { ActionRunStatus, ActionRunsTable, ActionsDatabase } from './database';

/** A stored action run. */
export type ActionRunRow = Selectable<ActionRunsTable>;

/** An unfinished run as the enqueuer needs it: its id and the request id its job carries. */
export interface PendingRun {
  id: string;
  request_id: string;
}

/**
 * Creates one `pending` run per enabled applet (local copy) on the event's trigger identity (of those the
 * event lists in `applets`, when it lists them), with a snapshot
 * of the applet's action and the event's ingredients. `ON CONFLICT DO NOTHING` on (applet, identity, event
 * id): a trigger event seen again creates nothing. Resolves the ids created.
 *
 * @example
 *   const created = await createRunsForEvent(trx, event, 'req-1'); // ['0193…', …]
 */
export async function createRunsForEvent(
  db: ActionsDatabase,
  event: TriggerEventRecordedEvent,
  requestId: string,
): Promise<string[]> {
  const listed = event.applets?.map((applet) => applet.applet_id);
  if (listed?.length === 0) return [];
  const rows = await db
    .insertInto('action_runs')
    .columns([
      'applet_id',
      'user_id',
      'user_timezone',
      'trigger_identity',
      'trigger_event_id',
      'ingredients',
      'action_service',
      'action_slug',
      'action_fields',
      'request_id',
    ])
    .expression((eb) =>
      eb
        .selectFrom('applets')
        .select([
          'applet_id',
          'user_id',
          'user_timezone',
          'trigger_identity',
          sql<string>`${event.event_id}::text`.as('trigger_event_id'),
          sql<string>`${JSON.stringify(event.ingredients)}::jsonb`.as('ingredients'),
          'action_service',
          'action_slug',
          'action_fields',
          sql<string>`${requestId}::text`.as('request_id'),
        ])
        .where('trigger_identity', '=', event.trigger_identity)
        .where('enabled', '=', true)
        // Only the applets enabled when the event was recorded (when the publisher says which).
        .$if(listed !== undefined, (qb) => qb.where('applet_id', 'in', listed ?? [])),
    )
    .onConflict((oc) => oc.columns(['applet_id', 'trigger_identity', 'trigger_event_id']).doNothing())
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/**
 * The runs of one trigger event that have not ended (whether created now or by an earlier delivery), so a
 * redelivered event enqueues again what an earlier delivery could not.
 *
 * @example
 *   const pending = await findUnfinishedRuns(db, 'ti_1', 'evt_42');
 */
export async function findUnfinishedRuns(
  db: ActionsDatabase,
  triggerIdentity: string,
  triggerEventId: string,
): Promise<PendingRun[]> {
  return db
    .selectFrom('action_runs')
    .select(['id', 'request_id'])
    .where('trigger_identity', '=', triggerIdentity)
    .where('trigger_event_id', '=', triggerEventId)
    .where('finished_at', 'is', null)
    .orderBy('seq')
    .execute();
}

/**
 * A run by id.
 *
 * @example
 *   const run = await findRun(db, runId);
 */
export async function findRun(db: ActionsDatabase, runId: string): Promise<ActionRunRow | undefined> {
  return db.selectFrom('action_runs').selectAll().where('id', '=', runId).executeTakeFirst();
}

/**
 * Claims an unfinished run for one partner call: counts the attempt, sets `started_at` on the first one,
 * and leases the run for `leaseMs` (`claimed_until`), so a second job of the same run (a duplicate, or a
 * redelivered event's) cannot call the partner at the same time. Undefined when the run has ended or
 * another job holds an unexpired claim.
 *
 * @example
 *   const run = await claimRun(db, runId, 40_000);
 */
export async function claimRun(
  db: ActionsDatabase,
  runId: string,
  leaseMs: number,
): Promise<ActionRunRow | undefined> {
  return db
    .updateTable('action_runs')
    .set({
      attempts: sql<number>`attempts + 1`,
      started_at: sql<Date>`coalesce(started_at, now())`,
      claimed_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`,
    })
    .where('id', '=', runId)
    .where('finished_at', 'is', null)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Gives a claim back after a retryable failure, keeping the failure's message for operators.
 *
 * @example
 *   await releaseRun(db, runId, 'partner slack answered HTTP 503');
 */
export async function releaseRun(db: ActionsDatabase, runId: string, message: string): Promise<void> {
  await db
    .updateTable('action_runs')
    .set({ claimed_until: null, message })
    .where('id', '=', runId)
    .where('finished_at', 'is', null)
    .execute();
}

/** How a run ended. */
export interface RunEnd {
  status: Exclude<ActionRunStatus, 'pending'>;
  partner_record_id: string | null;
  message: string | null;
}

/**
 * Records the end of a run (status, partner id, message, `finished_at`, `duration_ms` since `started_at`)
 * unless it had ended already; resolves the ended row, or undefined when it had ended before (so the caller
 * publishes `action-run.finished` once). Use it in the transaction that publishes.
 *
 * @example
 *   const ended = await finishRun(trx, runId, { status: 'success', partner_record_id: 'msg_9', message: null });
 */
export async function finishRun(
  db: ActionsDatabase,
  runId: string,
  end: RunEnd,
): Promise<ActionRunRow | undefined> {
  return db
    .updateTable('action_runs')
    .set({
      status: end.status,
      partner_record_id: end.partner_record_id,
      message: end.message,
      finished_at: sql<Date>`now()`,
      started_at: sql<Date>`coalesce(started_at, now())`,
      duration_ms: sql<number>`greatest(0, round(extract(epoch from now() - coalesce(started_at, now())) * 1000))::int`,
      claimed_until: null,
    })
    .where('id', '=', runId)
    .where('finished_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * One page of an applet's runs, newest first: at most `limit`, before the run with sequence `beforeSeq`
 * when given. Fetches one more than `limit` so the caller knows whether a next page exists.
 *
 * @example
 *   const rows = await listAppletRuns(db, '7', { limit: 20 });
 */
export async function listAppletRuns(
  db: ActionsDatabase,
  appletId: string,
  page: { limit: number; beforeSeq?: string },
): Promise<ActionRunRow[]> {
  let query = db.selectFrom('action_runs').selectAll().where('applet_id', '=', appletId);
  if (page.beforeSeq !== undefined) query = query.where('seq', '<', page.beforeSeq);
  return query
    .orderBy('seq', 'desc')
    .limit(page.limit + 1)
    .execute();
}

/** An applet copy older than the version a trigger event was recorded against (or missing). */
export interface AppletCopyBehind {
  applet_id: string;
  have: number | null;
  need: number;
}

/**
 * Which of the applets a trigger event lists (`applets`: id and the version trigger-poller had applied) this
 * service's copies have not caught up with yet: missing, or an older version. Empty when all are current.
 *
 * @example
 *   const behind = await findAppletCopiesBehind(db, [{ applet_id: '7', version: 3 }]); // [{ applet_id: '7', have: 2, need: 3 }]
 */
export async function findAppletCopiesBehind(
  db: ActionsDatabase,
  listed: readonly { applet_id: string; version: number }[],
): Promise<AppletCopyBehind[]> {
  if (listed.length === 0) return [];
  const rows = await db
    .selectFrom('applets')
    .select(['applet_id', 'version'])
    .where(
      'applet_id',
      'in',
      listed.map((a) => a.applet_id),
    )
    .execute();
  const have = new Map(rows.map((row) => [row.applet_id, row.version]));
  return listed
    .filter((a) => (have.get(a.applet_id) ?? 0) < a.version)
    .map((a) => ({ applet_id: a.applet_id, have: have.get(a.applet_id) ?? null, need: a.version }));
}
