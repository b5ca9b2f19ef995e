import { HttpProblem, type InvalidParam } from '@ittd/platform';
import {
  deleteAppletForUser,
  findAppletForUser,
  insertApplet,
  listAppletsForUser,
  lockAppletForUser,
  updateAppletForUser,
  type AppletRowPatch,
} from '../data/applet-repository';
import type { AppletsDatabase } from '../data/database';
import { findExistingPartnerServiceSlugs } from '../data/partner-service-repository';
import { findUserById, lockUserById } from '../data/user-repository';
import { toApplet, type Applet, type CreateAppletInput, type UpdateAppletInput } from './applet';
import { publishAppletChanged, type AppletChange } from './applet-events';
import type { PublishContext } from './publish-context';
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
 * `trigger.service` / `action.service` otherwise, and nothing is written), and publishes `applet.changed`
 * (`saved`, version 1) in the same transaction. The owner's row is share-locked so that a concurrent time
 * zone change either sees the new applet or is seen by it.
 *
 * @example
 *   const applet = await createApplet(db, userId, { trigger: {...}, action: {...}, enabled: true }, { requestId });
 */
export async function createApplet(
  db: AppletsDatabase,
  userId: string,
  input: CreateAppletInput,
  publishing: PublishContext = {},
): Promise<Applet> {
  return db.transaction().execute(async (trx) => {
    const known = await findExistingPartnerServiceSlugs(trx, [input.trigger.service, input.action.service]);
    const errors: InvalidParam[] = [];
    for (const step of ['trigger', 'action'] as const) {
      const slug = input[step].service;
      if (!known.has(slug)) errors.push({ name: `${step}.service`, reason: `no partner service "${slug}"` });
    }
    if (errors.length > 0) {
      throw new HttpProblem(422, { detail: 'The applet names unknown partner services.', errors });
    }
    const owner = await lockUserById(trx, userId, 'share');
    if (owner === undefined) throw new Error(`authenticated user ${userId} does not exist`);
    const row = await insertApplet(trx, {
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
    await publishAppletChanged(trx, row, owner.timezone, 'saved', publishing);
    return toApplet(row);
  });
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
 * What an update did, as `applet.changed` says it: `enabled` / `disabled` when it only switched the applet
 * on or off, else `saved` (also for an update that changes nothing: it still counts as a change).
 *
 * @example
 *   updateChange(true, { enabled: false }); // 'disabled'
 */
export function updateChange(wasEnabled: boolean, input: UpdateAppletInput): AppletChange {
  const onlyEnabled = input.trigger === undefined && input.action === undefined;
  if (onlyEnabled && input.enabled !== undefined && input.enabled !== wasEnabled) {
    return input.enabled ? 'enabled' : 'disabled';
  }
  return 'saved';
}

/**
 * Updates one of a user's applets and publishes `applet.changed` in the same transaction, with the next
 * `version`. The row is locked first, so the change kind computed from it and the version bump cannot
 * interleave with another change. New trigger fields get a new trigger identity (it depends only on the
 * owner, the trigger's service and slug, which never change, and the fields), written in the same UPDATE.
 * Enabling clears `disabled_reason`.
 *
 * @example
 *   await updateApplet(db, userId, '7', { enabled: false }, { requestId: req.id });
 */
export async function updateApplet(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
  input: UpdateAppletInput,
  publishing: PublishContext = {},
): Promise<Applet> {
  if (!isDatabaseId(appletId)) throw notFound(appletId);
  return db.transaction().execute(async (trx) => {
    const current = await lockAppletForUser(trx, userId, appletId);
    if (current === undefined) throw notFound(appletId);
    const patch: AppletRowPatch = { enabled: input.enabled, action_fields: input.action?.fields };
    const row = await updateAppletForUser(
      trx,
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
    if (row === undefined) throw notFound(appletId);
    await publishAppletChanged(
      trx,
      row,
      await ownerTimezone(trx, userId),
      updateChange(current.enabled, input),
      publishing,
    );
    return toApplet(row);
  });
}

/**
 * Deletes one of a user's applets and publishes `applet.changed` (`deleted`: the last state, `enabled`
 * false, version one past the last) in the same transaction; 404 when there is none.
 *
 * @example
 *   await deleteApplet(db, userId, '7', { requestId: req.id });
 */
export async function deleteApplet(
  db: AppletsDatabase,
  userId: string,
  appletId: string,
  publishing: PublishContext = {},
): Promise<void> {
  if (!isDatabaseId(appletId)) throw notFound(appletId);
  await db.transaction().execute(async (trx) => {
    const row = await deleteAppletForUser(trx, userId, appletId);
    if (row === undefined) throw notFound(appletId);
    const last = { ...row, enabled: false };
    await publishAppletChanged(
      trx,
      last,
      await ownerTimezone(trx, userId),
      'deleted',
      publishing,
      row.version + 1,
    );
  });
}

/** The time zone of an applet's owner (a plain read: see `changeUserTimezone` for why no lock). */
async function ownerTimezone(db: AppletsDatabase, userId: string): Promise<string> {
  const user = await findUserById(db, userId);
  if (user === undefined) throw new Error(`user ${userId} of an applet does not exist`);
  return user.timezone;
}
