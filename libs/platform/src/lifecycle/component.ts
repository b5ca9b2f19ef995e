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
  /**
   * Called once, synchronously, on every started component the moment shutdown begins: before the drain
   * wait (`SHUTDOWN_DRAIN_MS`, also when it is 0), in reverse registration order, before any `stop()`. For
   * telling clients to go elsewhere while the component still serves (the HTTP server answers
   * `Connection: close` from then on); it must not stop serving, that is `stop()`'s job. A throw is logged
   * and the shutdown goes on.
   */
  drain?(): void;
  stop(): Promise<void>;
}
