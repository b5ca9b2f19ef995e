import { HttpProblem, parseRequest } from '@ittd/platform';
import { Router } from 'express';
import { listAppletRuns, type ActionRunRow } from '../data/action-run-repository';
import { findAppletCopy } from '../data/applet-repository';
import type { ActionsDatabase } from '../data/database';
import { appletPath, listRunsQuery } from './request-schemas';
import { decodeRunCursor, encodeRunCursor } from './run-cursor';

/** An action run as the admin API answers it. */
export interface RunView {
  run_id: string;
  applet_id: string;
  user_id: string;
  trigger_identity: string;
  trigger_event_id: string;
  action: { service: string; slug: string };
  status: string;
  partner_record_id: string | null;
  message: string | null;
  attempts: number;
  duration_ms: number | null;
  request_id: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function view(row: ActionRunRow): RunView {
  return {
    run_id: row.id,
    applet_id: row.applet_id,
    user_id: row.user_id,
    trigger_identity: row.trigger_identity,
    trigger_event_id: row.trigger_event_id,
    action: { service: row.action_service, slug: row.action_slug },
    status: row.status,
    partner_record_id: row.partner_record_id,
    message: row.message,
    attempts: row.attempts,
    duration_ms: row.duration_ms,
    request_id: row.request_id,
    created_at: row.created_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}

/** 404 for an applet this service has no copy of (no `applet.changed` about it arrived) and no runs. */
function notKnown(appletId: string): HttpProblem {
  return new HttpProblem(404, {
    detail: `actions knows no applet ${JSON.stringify(appletId)}: no applet.changed about it arrived`,
  });
}

/**
 * Operator routes, relative to `/admin`: `GET /applets/:applet_id`, this service's copy of an applet (kept
 * from `applet.changed`: version, enabled, deleted, trigger identity, action), and
 * `GET /applets/:applet_id/runs?limit=&cursor=`, its action runs newest first,
 * `{data: RunView[], next_cursor}` (`null` on the last page; an applet the service knows without runs is an
 * empty page). Both are 404 for an applet no event told this service about. A cursor not made here is a 400
 * on `cursor`. The router in front must check the admin token.
 *
 * @example
 *   app.use('/admin', requireBearerToken(config.ADMIN_TOKEN), adminRoutes(db));
 */
export function adminRoutes(db: ActionsDatabase): Router {
  const router = Router();

  router.get('/applets/:applet_id', async (req, res) => {
    const { applet_id } = parseRequest(appletPath, req.params, 'The applet id is invalid.');
    const copy = await findAppletCopy(db, applet_id);
    if (copy === undefined) throw notKnown(applet_id);
    res.json({ ...copy, updated_at: copy.updated_at.toISOString() });
  });

  router.get('/applets/:applet_id/runs', async (req, res) => {
    const { applet_id } = parseRequest(appletPath, req.params, 'The applet id is invalid.');
    const { limit, cursor } = parseRequest(listRunsQuery, req.query, 'The query is invalid.');
    let beforeSeq: string | undefined;
    if (cursor !== undefined) {
      beforeSeq = decodeRunCursor(cursor);
      if (beforeSeq === undefined) {
        throw new HttpProblem(400, {
          detail: 'The cursor is invalid.',
          errors: [{ name: 'cursor', reason: 'not a cursor returned by this API' }],
        });
      }
    }
    const rows = await listAppletRuns(db, applet_id, { limit, beforeSeq });
    if (rows.length === 0 && (await findAppletCopy(db, applet_id)) === undefined) throw notKnown(applet_id);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    res.json({
      data: page.map(view),
      next_cursor: rows.length > limit && last !== undefined ? encodeRunCursor(last.seq) : null,
    });
  });

  return router;
}
