import type { PartnerSandboxDatabase } from './database';

/** An action call the sandbox answered 200, as received. */
export interface ActionRecord {
  id: string;
  actionSlug: string;
  /** The request body exactly as parsed (actionFields, user, ifttt_source, and any other keys). */
  request: unknown;
  requestId: string;
  userId: string | null;
  receivedAt: string;
}

/**
 * Keeps an action call; returns its id (the `data[0].id` of the answer).
 *
 * @example
 *   const id = await insertActionRecord(db, { actionSlug: 'record_message', request: req.body, requestId: req.id });
 */
export async function insertActionRecord(
  db: PartnerSandboxDatabase,
  record: { actionSlug: string; request: unknown; requestId: string; userId?: string },
): Promise<string> {
  const row = await db
    .insertInto('action_records')
    .values({
      action_slug: record.actionSlug,
      request: JSON.stringify(record.request),
      request_id: record.requestId,
      user_id: record.userId ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * The newest calls of an action first, at most `limit`.
 *
 * @example
 *   const records = await listActionRecords(db, 'record_message', 20);
 */
export async function listActionRecords(
  db: PartnerSandboxDatabase,
  actionSlug: string,
  limit: number,
): Promise<ActionRecord[]> {
  const rows = await db
    .selectFrom('action_records')
    .selectAll()
    .where('action_slug', '=', actionSlug)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    actionSlug: row.action_slug,
    request: row.request,
    requestId: row.request_id,
    userId: row.user_id,
    receivedAt: row.received_at.toISOString(),
  }));
}
