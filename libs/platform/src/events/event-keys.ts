/** Default prefix of every events key in Redis. */
export const DEFAULT_EVENTS_PREFIX = 'ittd:events:';

/**
 * The Redis keys of a topic and its subscriptions. All carry the hash tag `{topic}` (one Redis Cluster slot),
 * so a subscription's MULTI over its topic stream, retry stream and dead letters stays in one slot.
 *
 * @example
 * eventKeys('ittd:events:', 'applet.saved').stream; // 'ittd:events:{applet.saved}'
 * eventKeys('ittd:events:', 'applet.saved').dead('trigger-poller'); // 'ittd:events:{applet.saved}:trigger-poller:dead'
 */
export function eventKeys(prefix: string, topic: string) {
  const stream = `${prefix}{${topic}}`;
  return {
    /** The topic's stream, one entry per relayed event. */
    stream,
    /** A subscription's own stream of dead letters put back by `retryDead`, read by its group only. */
    retry: (subscription: string) => `${stream}:${subscription}:retry`,
    /** A subscription's dead letters (a stream: entry id = dead letter id). */
    dead: (subscription: string) => `${stream}:${subscription}:dead`,
  };
}
