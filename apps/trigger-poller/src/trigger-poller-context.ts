import type { ServiceContext } from '@ittd/platform';
import type { configSchema } from './config';
import type { DB } from './data/database';

/**
 * The platform's service context with this service's config and schema: what the web app, the worker and
 * the schedules receive.
 *
 * @example
 *   async function handler(ctx: TriggerPollerContext) { await ctx.db.selectFrom('trigger_events').execute(); }
 */
export type TriggerPollerContext = ServiceContext<typeof configSchema, DB>;
