import { describe, expect, it } from 'vitest';
import { createLogger, HealthRegistry, Lifecycle } from '../src/index';
import { logCollector } from './support';

/** Waits until `condition` holds, polling every 10 ms for at most `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

describe('Lifecycle.handleFatalError', () => {
  function setup() {
    const events: string[] = [];
    const exits: number[] = [];
    const health = new HealthRegistry('t');
    const logs = logCollector();
    const lifecycle = new Lifecycle({
      logger: createLogger({ service: 't', destination: logs.stream }),
      health,
      drainMs: 60_000, // a fatal stop must not wait for the drain
      timeoutMs: 5000,
      exit: (code) => exits.push(code),
    });
    for (const name of ['postgres', 'http-server'])
      lifecycle.register({ name, stop: async () => void events.push(`stop ${name}`) });
    return { events, exits, health, lifecycle, logs };
  }

  it('logs the error at fatal, fails readiness, stops the components without drain and exits 1 once', async () => {
    const { events, exits, health, lifecycle, logs } = setup();
    lifecycle.handleFatalError(new Error('nobody caught me'), 'uncaughtException');
    lifecycle.handleFatalError(new Error('and me neither'), 'unhandledRejection');
    expect(await until(() => exits.length > 0)).toBe(true);
    expect(exits).toEqual([1]);
    expect(events).toEqual(['stop http-server', 'stop postgres']);
    expect(health.isShuttingDown).toBe(true);
    const fatal = logs.lines.filter((line) => line.level === 'fatal');
    expect(fatal.map((line) => [line.origin, (line.err as { message: string }).message])).toEqual([
      ['uncaughtException', 'nobody caught me'],
      ['unhandledRejection', 'and me neither'],
    ]);
  });

  it('ends a drain under way at once and exits 1, not 0', async () => {
    const { events, exits, lifecycle } = setup();
    lifecycle.handleSignal('SIGTERM'); // would drain for 60 s
    lifecycle.handleFatalError(new Error('during drain'), 'unhandledRejection');
    expect(await until(() => exits.length > 0)).toBe(true);
    expect(exits[0]).toBe(1);
    expect(events).toEqual(['stop http-server', 'stop postgres']);
  });
});
