import type { ConfigSchema } from '../config/describe-config';
import { OutboxRelay } from '../events/outbox-relay';
import { relayLagCheck } from '../events/relay-lag-check';
import type { SubscriptionOptions } from '../events/subscription';
import type { ServiceContext, ServiceDefinition } from './service-definition';

/** The events settings a service's config has when it spreads `eventsConfig`. */
interface EventsSettings {
  EVENTS_PREFIX?: string;
  EVENTS_RETENTION?: number;
  EVENTS_RELAY_LAG_WARN_MS?: number;
}

/**
 * The options every `subscribe` of a service shares: its Redis, the EVENTS_PREFIX, its metrics registry and
 * logger. Spread it and add the subscription's own (`maxDeliveries`, `leaseMs`, ...).
 *
 * @example
 * subscribe(triggerEventRecorded, 'actions', handle, { ...eventsOptions(ctx), maxDeliveries: 20 });
 */
export function eventsOptions<S extends ConfigSchema, DB>(
  ctx: ServiceContext<S, DB>,
): Pick<SubscriptionOptions, 'redis' | 'prefix' | 'registry' | 'logger'> {
  const settings = ctx.config as EventsSettings;
  return { redis: ctx.redis, prefix: settings.EVENTS_PREFIX, registry: ctx.metrics, logger: ctx.logger };
}

/**
 * Registers what a service's `events` declaration asks of one process (see `ServiceEvents`): the outbox
 * relay and its readiness check in every process of a publisher, and the subscriptions in the process they
 * run in. Called by `startService` before the web app or worker is built, so the relay and subscriptions
 * start before the HTTP server and stop after it.
 *
 * @example
 * registerServiceEvents(definition, ctx, 'worker');
 */
export function registerServiceEvents<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  ctx: ServiceContext<S, DB>,
  mode: 'serve' | 'worker',
): void {
  const events = definition.events;
  if (!events) return;
  const settings = ctx.config as EventsSettings;
  if (events.publishes) {
    ctx.lifecycle.register(
      new OutboxRelay({
        db: ctx.db,
        redis: ctx.redis,
        prefix: settings.EVENTS_PREFIX,
        retention: settings.EVENTS_RETENTION,
        registry: ctx.metrics,
        logger: ctx.logger,
      }),
    );
    ctx.health.add(relayLagCheck(ctx.db, { warnAboveMs: settings.EVENTS_RELAY_LAG_WARN_MS }));
  }
  const subscribeIn = events.subscribeIn ?? (definition.worker ? 'worker' : 'serve');
  if (events.subscriptions && subscribeIn === mode) {
    for (const subscription of events.subscriptions(ctx)) ctx.lifecycle.register(subscription);
  }
}
