import { HttpProblem, text } from '@ittd/platform';
import { z } from 'zod';
import { insertActionRecord } from '../data/action-record-repository';
import type { PartnerSandboxDatabase } from '../data/database';
import { insertItem } from '../data/item-repository';
import { ADD_ITEM, LISTS, READ_ONLY_LIST, RECORD_MESSAGE } from './sandbox-catalog';

/** The problem type of a skipped action: the Service API error answers it as `status: "SKIP"`. */
export const SKIP_PROBLEM_TYPE = 'https://ittd.dev/problems/action-skipped';

/**
 * A skipped action (Service API: 400 `{"errors":[{"status":"SKIP","message":…}]}`): the engine shows the
 * message in the user's activity and does not retry.
 *
 * @example
 *   throw skipAction('the archive list is read-only');
 */
export function skipAction(message: string): HttpProblem {
  return new HttpProblem(400, { type: SKIP_PROBLEM_TYPE, title: 'Skipped', detail: message });
}

const actionFields = {
  [RECORD_MESSAGE]: z.object({ message: text().max(10_000) }),
  [ADD_ITEM]: z.object({
    list: z.enum(LISTS.map((list) => list.value) as [string, ...string[]]),
    title: text().trim().min(1, { error: 'must not be empty' }).max(500),
  }),
};

function parseFields<S extends z.ZodType>(schema: S, fields: unknown): z.output<S> {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  throw new HttpProblem(400, {
    detail: 'The action fields are invalid.',
    errors: parsed.error.issues.map((issue) => ({
      name: ['actionFields', ...issue.path.map(String)].join('.'),
      reason: issue.message,
    })),
  });
}

/** One action call: the slug, the parsed body (kept as received), the request id and the user if any. */
export interface ActionCall {
  actionSlug: string;
  body: { actionFields: Record<string, unknown> } & Record<string, unknown>;
  requestId: string;
  userId?: string;
}

/**
 * Runs an action and keeps the call (readable through `GET /control/actions/<slug>/records`); returns the
 * `ActionEvent` ids of the answer.
 *
 * - `record_message` (field `message`): keeps the call.
 * - `add_item` (fields `list`, `title`): adds an item to the list (a `new_item` event); the read-only
 *   `archive` list is skipped.
 *
 * @throws HttpProblem 404 for an unknown action, 400 naming the invalid `actionFields.<slug>`, or a SKIP
 *   ({@link skipAction}).
 * @example
 *   const ids = await runAction(db, { actionSlug: 'record_message', body, requestId: req.id });
 */
export async function runAction(db: PartnerSandboxDatabase, call: ActionCall): Promise<{ id: string }[]> {
  if (call.actionSlug === RECORD_MESSAGE) {
    parseFields(actionFields[RECORD_MESSAGE], call.body.actionFields);
  } else if (call.actionSlug === ADD_ITEM) {
    const { list, title } = parseFields(actionFields[ADD_ITEM], call.body.actionFields);
    if (list === READ_ONLY_LIST) throw skipAction(`the ${READ_ONLY_LIST} list is read-only: nothing added`);
    await insertItem(db, { list, title });
  } else {
    throw new HttpProblem(404, { detail: `There is no action ${call.actionSlug}.` });
  }
  const id = await insertActionRecord(db, {
    actionSlug: call.actionSlug,
    request: call.body,
    requestId: call.requestId,
    userId: call.userId,
  });
  return [{ id: `${call.actionSlug}-${id}` }];
}
