import { decimalInteger, text } from '@ittd/platform';
import { z } from 'zod';

/** Most runs one page of `GET /admin/applets/:applet_id/runs` answers. */
export const MAX_RUNS_PAGE = 100;

/**
 * Path parameter of `/admin/applets/:applet_id/runs`: an applet id as applets publishes it (1-40 characters).
 *
 * @example
 *   const { applet_id } = parseRequest(appletPath, req.params);
 */
export const appletPath = z.object({ applet_id: text().min(1).max(40) });

/**
 * Query of `GET /admin/applets/:applet_id/runs`: `limit` 1..100 (default 20) and the opaque `cursor` of the
 * previous page.
 *
 * @example
 *   const { limit, cursor } = parseRequest(listRunsQuery, req.query);
 */
export const listRunsQuery = z.object({
  limit: decimalInteger({ min: 1, max: MAX_RUNS_PAGE }).default(20),
  cursor: text().min(1).max(200).optional(),
});
