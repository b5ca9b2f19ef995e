/**
 * Anything the lifecycle starts and stops: the HTTP server, worker pools, the DB pool, Redis.
 * Components start in registration order and stop in reverse.
 *
 * @example
 * const poller: Component = { name: 'poller', start: async () => timer.start(), stop: async () => timer.stop() };
 */
export interface Component {
  name: string;
  start?(): Promise<void>;
  stop(): Promise<void>;
}
