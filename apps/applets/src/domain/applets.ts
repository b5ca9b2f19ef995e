import { HttpProblem, type InvalidParam } from '@ittd/platform';
import {
  deleteAppletForUser,
  findAppletForUser,
  insertApplet,
  listAppletsForUser,
  updateAppletForUser,
  type AppletRowPatch,
} from '../data/applet-repository';
import type { AppletsDatabase } from '../data/database';
import { findExistingPartnerServiceSlugs } from '../data/partner-service-repository';
import { toApplet, type Applet, type CreateAppletInput, type UpdateAppletInput } from './applet';
import { isDatabaseId } from './database-id';
import { decodeCursor, encodeCursor } from './pagination-cursor';
import { computeTriggerIdentity } from './trigger-identity';

/** Largest page `listApplets` returns, whatever `limit` asks for (the request schema enforces it too). */
export const MAX_PAGE_SIZE = 100;

/** Page size when the request gives no `limit`. */
export const DEFAULT_PAGE_SIZE = 20;

function notFound(appletId: string): HttpProblem {
  return new HttpProblem(404, { detail: `applet ${JSON.stringify(appletId)} does not exist` });
}

/**
 * Creates an applet for a user after checking that both services are in the registry (422 naming
 * `trigger.service` / `action.service` otherwise, and nothing is written).
 *
 * @example
 *   const applet = await createApplet(db, userId, { trigger: {...}, action: {...}, enabled: true });
 */
export async function createApplet(
  db: AppletsDatabase,
  userId: string,
  input: CreateAppletInput,
): Promise<Applet> {
  const known = await findExistingPartnerServiceSlugs(db, [input.trigger.service, input.action.service]);
  const errors: InvalidParam[] = [];
  for (const step of ['trigger', 'action'] as const) {
    const slug = input[step].service;
    if (!known.has(slug)) errors.push({ name: `${step}.service`, reason: `no partner service "${slug}"` });
  }
  if (errors.length > 0) {
    throw new HttpProblem(422, { detail: 'The applet names unknown partner services.', errors });
  }
  const row = await insertApplet(db, {
    user_id: userId,
    trigger_service_slug: input.trigger.service,
    trigger_slug: input.trigger.slug,
    trigger_fields: input.trigger.fields,
    trigger_identity: computeTriggerIdentity({
      userId,
      serviceSlug: input.trigger.service,
      triggerSlug: input.trigger.slug,
      fields: input.trigger.fields,
    }),
    action_service_slug: input.action.service,
    action_slug: input.action.slug,
    action_fields: input.action.fields,
    enabled: input.enabled,
  });
  return toApplet(row);
}

/** One page of applets and the cursor of the next page (`null` on the last page). */
export interface AppletPage {
  data: Applet[];
  next_cursor: string | null;
}

/**
 * Lists a user's applets newest first, `limit` at a time; pass the previous page's `next_cursor` to go on.
 * A cursor that was not made here is a 400 on `cursor`.
 *
 * @example
 *   const first = await listApplets(db, userId, { limit: 2 });
 *   const second = await listApplets(db, userId, { limit: 2, cursor: first.next_cursor ?? undefined });
 */
export async function listApplets(
  db: AppletsDatabase,
  userId: string,
  page: { limit?: number; cursor?: string },
): Promise<AppletPage> {
  const limit = Math.min(page.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  let beforeId: string | undefined;
  if (page.cursor !== undefined) {
    const position = decodeCursor(page.cursor);
    if (position === undefined) {
      throw new HttpProblem(400, {
        detail: 'The cursor is invalid.',
        errors: [{ name: 'cursor', reason: 'not a cursor returned by this API' }],
      });
    }
    beforeId = position.beforeId;
  }
  const rows = await listAppletsForUser(db, userId, { beforeId, limit: limit + 1 });
  const pageRows = rows.slice(0, limit);
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(toApplet),
    next_cursor: rows.length > limit && last !== undefined ? encodeCursor({ beforeId: last.id }) : null,
  };
}

/**
 * Gets one of a user's applets; 404 when it does not exist or belongs to someone else (the same answer,
 * so ids of other users' applets cannot be probed).
 *
 * @example
 *   const applet = await getApplet(db, userId, req.params.id);
 */
export async function getApplet(db: AppletsDatabase, userId: string, appletId: string): Promise<Applet> {
  const row = isDatabaseId(appletId) ? await findAppletForUser(db, userId, appletId) : undefined;
  if (row === undefined) throw notFound(appletId);
  return toApplet(row);
}

/**
 * Updates one of a user's applets. New trigger fields get a new trigger identity; it depends only on the
 * owner, the trigger's service and slug (which never change) and the fields, and both are written in one
 * UPDATE, so concurrent updates cannot leave fields and identity out of step.
 *
 * @example
 *   await updateApplet(db, userId, '7', { enabled: false });
 */
export async function updateApplet(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
  input: UpdateAppletInput,
): Promise<Applet> {
  const current = isDatabaseId(appletId) ? await findAppletForUser(db, userId, appletId) : undefined;
  if (current === undefined) throw notFound(appletId);
  const patch: AppletRowPatch = { enabled: input.enabled, action_fields: input.action?.fields };
  const row = await updateAppletForUser(
    db,
    userId,
    appletId,
    input.trigger === undefined
      ? patch
      : {
          ...patch,
          trigger_fields: input.trigger.fields,
          trigger_identity: computeTriggerIdentity({
            userId,
            serviceSlug: current.trigger_service_slug,
            triggerSlug: current.trigger_slug,
            fields: input.trigger.fields,
          }),
        },
  );
  // Deleted between the read and the write.
  if (row === undefined) throw notFound(appletId);
  return toApplet(row);
}

/**
 * Deletes one of a user's applets; 404 when there is none.
 *
 * @example
 *   await deleteApplet(db, userId, '7');
 */
export async function deleteApplet(db: AppletsDatabase, userId: string, appletId: string): Promise<void> {
  const deleted = isDatabaseId(appletId) && (await deleteAppletForUser(db, userId, appletId));
  if (!deleted) throw notFound(appletId);
}
