export {
  defineTopic,
  parseEvent,
  EventPayloadError,
  TOPIC_NAME_PATTERN,
  type EventOf,
  type Topic,
} from './topic';
export { publish, type PublishOptions } from './publish';
export {
  eventsMigrations,
  runEventsMigrations,
  EVENTS_MIGRATION_SERVICE,
  INBOX_TABLE,
  OUTBOX_TABLE,
  type EventsTables,
} from './events-migrations';
export { DEFAULT_EVENTS_PREFIX, eventKeys } from './event-keys';
export { eventMetrics, type EventMetrics } from './event-metrics';
export { OutboxRelay, relayLagMs, type OutboxRelayOptions } from './outbox-relay';
export { relayLagCheck } from './relay-lag-check';
export {
  subscribe,
  deliveryBackoffMs,
  Subscription,
  SUBSCRIPTION_NAME_PATTERN,
  type EventContext,
  type EventHandler,
  type SubscriptionOptions,
} from './subscription';
export { DeadLetters, type DeadLetter } from './dead-letters';
export { withInbox, purgeInbox, type InboxOutcome } from './inbox';
export { eventsCommand, runEventsCli, EventsUsageError, type EventsCliIo } from './events-cli';
