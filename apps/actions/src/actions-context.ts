import type { ServiceContext } from '@ittd/platform';
import type { configSchema } from './config';
import type { DB } from './data/database';

/**
 * The platform's service context with this service's config and schema: what the web app, the worker and
 * the subscriptions receive.
 *
 * @example
 *   async function handler(ctx: ActionsContext) { await ctx.db.selectFrom('action_runs').execute(); }
 */
export type ActionsContext = ServiceContext<typeof configSchema, DB>;
