import { HttpProblem } from '@ittd/platform';
import type { ActionRunFinishedEvent } from '@ittd/engine-events';
import type { Transaction } from 'kysely';
import {
  latestRunsOfApplet,
  listActivityOfApplet,
  upsertActivity,
  type ActivityRow,
} from '../data/activity-repository';
import { disableAppletWithReason, findAppletForUser, lockAppletById } from '../data/applet-repository';
import type { AppletsDatabase, DB } from '../data/database';
import { findUserById } from '../data/user-repository';
import { decodeActivityCursor, encodeActivityCursor } from './activity-cursor';
import { publishAppletChanged } from './applet-events';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './applets';
import { isDatabaseId } from './database-id';
import type { PublishContext } from './publish-context';

/**
 * One action run of an applet as its owner sees it: how it ended (`success`, `skipped` by the partner,
 * `failed`), the partner's record id on success, the SKIP message or the failure's reason, attempts, the
 * time from the first attempt's start to the end in ms, and ISO 8601 times.
 *
 * @example
 *   { run_id: '0193…', trigger_event_id: 'evt_42', status: 'success', partner_record_id: 'msg_9',
 *     message: null, attempts: 1, duration_ms: 84,
 *     started_at: '2026-11-30T09:00:01.000Z', finished_at: '2026-11-30T09:00:01.084Z' }
 */
export interface ActivityEntry {
  run_id: string;
  trigger_event_id: string;
  status: ActivityRow['status'];
  partner_record_id: string | null;
  message: string | null;
  attempts: number;
  duration_ms: number;
  started_at: string;
  finished_at: string;
}

/** One page of activity and the cursor of the next page (`null` on the last page). */
export interface ActivityPage {
  data: ActivityEntry[];
  next_cursor: string | null;
}

/**
 * Longest part of a run's message quoted in an auto-disable reason, in code points: at most 800 UTF-16
 * units even if every one is astral, so the reason stays within the 1000 `applet.changed` allows.
 */
const REASON_MESSAGE_LENGTH = 400;

function toActivityEntry(row: ActivityRow): ActivityEntry {
  return {
    run_id: row.run_id,
    trigger_event_id: row.trigger_event_id,
    status: row.status,
    partner_record_id: row.partner_record_id,
    message: row.message,
    attempts: row.attempts,
    duration_ms: Number(row.duration_ms),
    started_at: row.started_at.toISOString(),
    finished_at: row.finished_at.toISOString(),
  };
}

/**
 * Lists the runs of one of a user's applets, newest first (`finished_at`, then `run_id`), `limit` at a time
 * (default 20, at most 100); pass the previous page's `next_cursor` to go on. Another user's applet is a
 * 404 (as for the applet itself); a cursor not made here is a 400 on `cursor`.
 *
 * @example
 *   const page = await listActivity(db, userId, '7', { limit: 10 });
 */
export async function listActivity(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
  page: { limit?: number; cursor?: string },
): Promise<ActivityPage> {
  const applet = isDatabaseId(appletId) ? await findAppletForUser(db, userId, appletId) : undefined;
  if (applet === undefined) {
    throw new HttpProblem(404, { detail: `applet ${JSON.stringify(appletId)} does not exist` });
  }
  const limit = Math.min(page.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const before = page.cursor === undefined ? undefined : decodeActivityCursor(page.cursor);
  if (page.cursor !== undefined && before === undefined) {
    throw new HttpProblem(400, {
      detail: 'The cursor is invalid.',
      errors: [{ name: 'cursor', reason: 'not a cursor returned by this API' }],
    });
  }
  const rows = await listActivityOfApplet(db, applet.id, { before, limit: limit + 1 });
  const pageRows = rows.slice(0, limit);
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(toActivityEntry),
    next_cursor:
      rows.length > limit && last !== undefined
        ? encodeActivityCursor({ finishedAt: last.finished_at, runId: last.run_id })
        : null,
  };
}

/** What {@link recordActionRun} did with a run. */
export type RecordedRun = 'recorded' | 'recorded-and-disabled' | 'applet-gone';

/**
 * The reason shown on an auto-disabled applet: how many runs failed and the last one's message (cut to
 * 400 code points, never inside a surrogate pair).
 *
 * @example
 *   autoDisableReason(10, 'HTTP 401'); // 'disabled after 10 failed runs in a row; last error: HTTP 401'
 */
export function autoDisableReason(failures: number, lastMessage: string | null): string {
  const head = `disabled after ${failures} failed runs in a row`;
  if (lastMessage === null || lastMessage === '') return head;
  const chars = Array.from(lastMessage);
  const quoted =
    chars.slice(0, REASON_MESSAGE_LENGTH).join('') + (chars.length > REASON_MESSAGE_LENGTH ? '…' : '');
  return `${head}; last error: ${quoted}`;
}

/**
 * Records an `action-run.finished` event in the caller's transaction (the subscription's inbox
 * transaction): upserts the activity row by `run_id` (a run reported twice stays one entry) and, when the
 * applet's last `autoDisableAfter` runs recorded since it was last enabled all failed, disables it with a
 * reason and publishes `applet.changed` (`disabled`) in the same transaction. The applet row is locked
 * first, so runs of one applet handled at once by two replicas count each other. Runs of an applet that no
 * longer exists (deleted, or an id that cannot exist) are ignored: `applet-gone`.
 *
 * @example
 *   await withInbox(db, 'applets', eventId, (trx) => recordActionRun(trx, event, 10, { requestId }));
 */
export async function recordActionRun(
  trx: Transaction<DB>,
  run: ActionRunFinishedEvent,
  autoDisableAfter: number,
  publishing: PublishContext = {},
): Promise<RecordedRun> {
  if (!isDatabaseId(run.applet_id)) return 'applet-gone';
  const applet = await lockAppletById(trx, run.applet_id);
  if (applet === undefined) return 'applet-gone';
  await upsertActivity(trx, {
    run_id: run.run_id,
    applet_id: applet.id,
    trigger_event_id: run.trigger_event_id,
    status: run.status,
    partner_record_id: run.partner_record_id,
    message: run.message,
    attempts: run.attempts,
    duration_ms: run.duration_ms,
    started_at: new Date(run.started_at),
    finished_at: new Date(run.finished_at),
  });
  if (run.status !== 'failed' || !applet.enabled) return 'recorded';
  const latest = await latestRunsOfApplet(trx, applet.id, applet.enabled_at, autoDisableAfter);
  if (latest.length < autoDisableAfter || latest.some((each) => each.status !== 'failed')) return 'recorded';
  const reason = autoDisableReason(autoDisableAfter, latest[0]?.message ?? null);
  const disabled = await disableAppletWithReason(trx, applet.id, reason);
  if (disabled === undefined) return 'applet-gone';
  const owner = await findUserById(trx, applet.user_id);
  if (owner === undefined) throw new Error(`user ${applet.user_id} of applet ${applet.id} does not exist`);
  await publishAppletChanged(trx, disabled, owner.timezone, 'disabled', publishing);
  return 'recorded-and-disabled';
}
