import { describe, expect, it } from 'vitest';
import { lifecycleHarness, until } from './lifecycle-harness';

describe('Lifecycle.handleFatalError', () => {
  function setup() {
    const harness = lifecycleHarness({ drainMs: 60_000 }); // a fatal stop must not wait for the drain
    for (const name of ['postgres', 'http-server'])
      harness.lifecycle.register({ name, stop: async () => void harness.events.push(`stop ${name}`) });
    return harness;
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
