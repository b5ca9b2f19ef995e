import type { Logger } from 'pino';
import { DEFAULT_SHUTDOWN_DRAIN_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../config/config-groups';
import type { HealthRegistry } from '../health/health-registry';
import { flushLogger } from '../logging/flush-logger';
import type { Component } from './component';

/** Options of {@link Lifecycle}. */
export interface LifecycleOptions {
  logger: Logger;
  /** Flipped to `fail` the moment shutdown begins. */
  health?: HealthRegistry;
  /** ms readiness fails before components stop (SHUTDOWN_DRAIN_MS). */
  drainMs?: number;
  /** ms from the signal after which the process exits 1 (SHUTDOWN_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How to end the process; tests replace it. Defaults to `process.exit` after flushing the logger. */
  exit?: (code: number) => void;
}

/**
 * The one place that owns start and stop. Components start in registration order and stop in reverse
 * (register the DB pool and Redis first, the HTTP server last, so it stops first).
 *
 * Shutdown on SIGTERM/SIGINT: readiness fails and every started component's `drain()` runs at once (the
 * HTTP server then answers with `Connection: close`); after `drainMs` the components stop in reverse
 * order; the process exits 0. A second signal, a failing stop, or `timeoutMs` passing exits 1. An
 * uncaught exception or unhandled rejection is logged at fatal and stops the process with exit 1.
 *
 * @example
 * const lifecycle = new Lifecycle({ logger, health, drainMs: config.SHUTDOWN_DRAIN_MS });
 * lifecycle.register(database.component);
 * lifecycle.register(httpServerComponent(app, { port: config.PORT, logger }));
 * await lifecycle.start();
 * lifecycle.installSignalHandlers();
 */
export class Lifecycle {
  private readonly components: Component[] = [];
  /** Components whose `start` resolved; those without `start` (clients live from creation) count as started. */
  private readonly started = new Set<Component>();
  private stopping: Promise<void> | undefined;
  /** Set when a component failed to stop: the exit code then says so. */
  private failed = false;
  /** Set once an unhandled error started the stop. */
  private fatal = false;
  /** Ends a running drain early (an unhandled error does not wait for it). */
  private endDrain: (() => void) | undefined;
  private readonly drainMs: number;
  private readonly timeoutMs: number;
  private readonly exit: (code: number) => void;

  constructor(private readonly options: LifecycleOptions) {
    this.drainMs = options.drainMs ?? DEFAULT_SHUTDOWN_DRAIN_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    // Buffered log lines are written out (in order) before the process ends.
    this.exit = options.exit ?? ((code) => void flushLogger(options.logger).then(() => process.exit(code)));
  }

  /**
   * Adds a component; the next {@link start} starts it. A component without `start` (a DB pool, a Redis
   * client: live from creation) is stopped by {@link stop} even if the lifecycle never started.
   */
  register(component: Component): void {
    this.components.push(component);
    if (!component.start) this.started.add(component);
  }

  /** Starts every registered, not yet started component in order. If one fails, the started ones stop. */
  async start(): Promise<void> {
    for (const component of this.components) {
      if (this.started.has(component)) continue;
      try {
        await component.start?.();
      } catch (error) {
        this.options.logger.error({ err: error, component: component.name }, 'component failed to start');
        await this.stopComponents();
        throw error;
      }
      this.started.add(component);
    }
  }

  /**
   * Stops everything: readiness fails and the started components' `drain()` runs (in reverse order), waits
   * `drainMs` (skip the wait with `{ drain: false }`), then stops the components in reverse. Idempotent;
   * never throws (a failing component is logged, the others still stop).
   */
  stop({ drain = true }: { drain?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.options.health?.markShuttingDown();
      this.drainComponents();
      if (drain && this.drainMs > 0 && !this.fatal) {
        this.options.logger.info({ drainMs: this.drainMs }, 'readiness failing; draining before stop');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.drainMs);
          this.endDrain = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await this.stopComponents();
    })();
    return this.stopping;
  }

  /** Tells every started component that shutdown has begun ({@link Component.drain}); a throw is logged. */
  private drainComponents(): void {
    for (const component of [...this.components].reverse()) {
      if (!component.drain || !this.started.has(component)) continue;
      try {
        component.drain();
      } catch (error) {
        this.options.logger.error({ err: error, component: component.name }, 'component failed to drain');
      }
    }
  }

  private async stopComponents(): Promise<void> {
    for (const component of [...this.components].reverse()) {
      if (!this.started.delete(component)) continue;
      try {
        await component.stop();
        this.options.logger.info({ component: component.name }, 'component stopped');
      } catch (error) {
        this.failed = true;
        this.options.logger.error({ err: error, component: component.name }, 'component failed to stop');
      }
    }
  }

  /**
   * What a stop signal does: the first runs a graceful {@link stop} under the `timeoutMs` deadline and then
   * exits 0 (1 if a component failed to stop, or when the deadline passes); a second one exits 1 at once.
   */
  handleSignal(signal: NodeJS.Signals): void {
    if (this.stopping) {
      this.options.logger.warn({ signal }, 'second signal; forcing exit');
      this.exit(1);
      return;
    }
    this.options.logger.info({ signal, drainMs: this.drainMs, timeoutMs: this.timeoutMs }, 'shutdown begins');
    const deadline = setTimeout(() => {
      this.options.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown deadline passed; forcing exit');
      this.exit(1);
    }, this.timeoutMs);
    void this.stop().then(() => {
      clearTimeout(deadline);
      this.options.logger.info('shutdown complete');
      this.exit(this.failed ? 1 : 0);
    });
  }

  /**
   * The last resort for an error nothing handled (an uncaught exception, an unhandled rejection, an
   * `'error'` event without a listener): logs it at `fatal` with `origin`, stops the components without
   * draining (the process state is unknown, so no new work; a drain under way ends at once) under the
   * `timeoutMs` deadline, and exits 1.
   * A second one while stopping is logged too; the exit stays 1.
   */
  handleFatalError(error: unknown, origin: string): void {
    this.failed = true;
    this.options.logger.fatal({ err: error, origin }, 'unhandled error; stopping the process');
    if (this.fatal) return;
    this.fatal = true;
    this.endDrain?.();
    const deadline = setTimeout(() => {
      this.options.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown deadline passed; forcing exit');
      this.exit(1);
    }, this.timeoutMs);
    void this.stop({ drain: false }).then(() => {
      clearTimeout(deadline);
      this.exit(1);
    });
  }

  /**
   * Routes uncaught exceptions and unhandled rejections to {@link handleFatalError}, so such an error is
   * logged and ends the process through the lifecycle with exit code 1, never silently.
   */
  installFatalErrorHandlers(): void {
    process.on('uncaughtException', (error, origin) => this.handleFatalError(error, origin));
    process.on('unhandledRejection', (reason) => this.handleFatalError(reason, 'unhandledRejection'));
  }

  /** Routes SIGTERM and SIGINT to {@link handleSignal}, and installs {@link installFatalErrorHandlers}. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals): void => this.handleSignal(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    this.installFatalErrorHandlers();
  }
}
