import { createLogger, HealthRegistry, Lifecycle } from '../src/index';
import { logCollector } from './support';

/**
 * A Lifecycle whose exits are recorded instead of ending the test process, with its health registry, its log
 * lines and an `events` list for components to write to.
 *
 * @example
 * const { lifecycle, exits } = lifecycleHarness({ drainMs: 0 });
 * lifecycle.handleSignal('SIGTERM');
 * await until(() => exits.length > 0);
 */
export function lifecycleHarness(options: { drainMs?: number; timeoutMs?: number } = {}) {
  const events: string[] = [];
  const exits: number[] = [];
  const health = new HealthRegistry('t');
  const logs = logCollector();
  const lifecycle = new Lifecycle({
    logger: createLogger({ service: 't', destination: logs.stream }),
    health,
    drainMs: options.drainMs ?? 0,
    timeoutMs: options.timeoutMs ?? 5000,
    exit: (code) => exits.push(code),
  });
  return { events, exits, health, lifecycle, logs };
}

/** Waits until `condition` holds, polling every 10 ms; throws after `timeoutMs`. Resolves `true`. */
export async function until(condition: () => boolean, timeoutMs = 3000): Promise<true> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
