import { Counter, type Registry } from 'prom-client';

/** The counters of events; create once per registry and hand to `publish`, the relay and subscribers. */
export interface EventMetrics {
  published: Counter<'topic'>;
  relayed: Counter<'topic'>;
  delivered: Counter<'topic' | 'subscription'>;
  failed: Counter<'topic' | 'subscription'>;
  dead: Counter<'topic' | 'subscription'>;
}

const cache = new WeakMap<Registry, EventMetrics>();

/**
 * The event counters on a registry (the same objects for the same registry, so the relay and every
 * subscriber may ask): `events_published_total` (inserted into the outbox; a rolled-back transaction's
 * events are counted here and never relayed), `events_relayed_total`, `events_delivered_total` (a handler
 * succeeded and the message was acknowledged), `events_failed_total` (a handler threw, or its consumer died),
 * `events_dead_total`. Relay lag is the gauge `events_relay_lag_seconds` ({@link OutboxRelay}).
 *
 * @example
 * const metrics = eventMetrics(registry);
 * await publish(trx, appletSaved, event, { metrics });
 */
export function eventMetrics(registry: Registry): EventMetrics {
  const known = cache.get(registry);
  if (known) return known;
  const registers = [registry];
  const metrics: EventMetrics = {
    published: new Counter({
      name: 'events_published_total',
      help: 'events written to the outbox',
      labelNames: ['topic'],
      registers,
    }),
    relayed: new Counter({
      name: 'events_relayed_total',
      help: 'outbox events added to their Redis stream',
      labelNames: ['topic'],
      registers,
    }),
    delivered: new Counter({
      name: 'events_delivered_total',
      help: 'events a subscription handled and acknowledged',
      labelNames: ['topic', 'subscription'],
      registers,
    }),
    failed: new Counter({
      name: 'events_failed_total',
      help: 'deliveries that failed (handler threw or consumer died)',
      labelNames: ['topic', 'subscription'],
      registers,
    }),
    dead: new Counter({
      name: 'events_dead_total',
      help: "events moved to a subscription's dead letters",
      labelNames: ['topic', 'subscription'],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
