import { describe, expect, it } from 'vitest';
import type { Component } from '../src/index';
import { lifecycleHarness as setup, until } from './lifecycle-harness';

function recorder(
  events: string[],
  name: string,
  stop: () => Promise<void> = async () => undefined,
): Component {
  return {
    name,
    start: async () => {
      events.push(`start ${name}`);
    },
    stop: async () => {
      events.push(`stop ${name}`);
      await stop();
    },
  };
}

describe('Lifecycle', () => {
  it('starts in order and stops in reverse', async () => {
    const { events, lifecycle } = setup();
    for (const name of ['postgres', 'redis', 'http-server']) lifecycle.register(recorder(events, name));
    await lifecycle.start();
    await lifecycle.stop();
    expect(events).toEqual([
      'start postgres',
      'start redis',
      'start http-server',
      'stop http-server',
      'stop redis',
      'stop postgres',
    ]);
  });

  it('stops what started when a later component fails to start', async () => {
    const { events, lifecycle } = setup();
    lifecycle.register(recorder(events, 'postgres'));
    lifecycle.register({
      name: 'broken',
      start: async () => Promise.reject(new Error('port in use')),
      stop: async () => undefined,
    });
    await expect(lifecycle.start()).rejects.toThrow('port in use');
    expect(events).toEqual(['start postgres', 'stop postgres']);
  });

  it('on a signal fails readiness at once, drains, stops and exits 0', async () => {
    const { events, exits, health, lifecycle } = setup({ drainMs: 200 });
    lifecycle.register(recorder(events, 'postgres'));
    await lifecycle.start();
    lifecycle.handleSignal('SIGTERM');
    expect(health.isShuttingDown).toBe(true);
    expect((await health.readiness()).status).toBe('fail');
    expect(events).toEqual(['start postgres']);
    await until(() => exits.length > 0);
    expect(events).toEqual(['start postgres', 'stop postgres']);
    expect(exits).toEqual([0]);
  });

  it.each([0, 200])(
    'with drainMs %d tells every started component to drain when shutdown begins, before any stop',
    async (drainMs) => {
      const { events, exits, health, lifecycle } = setup({ drainMs });
      const draining = (name: string): Component => ({
        ...recorder(events, name),
        drain: () => events.push(`drain ${name} (ready ${health.isShuttingDown ? 'failing' : 'passing'})`),
      });
      lifecycle.register(draining('metrics-server'));
      lifecycle.register(recorder(events, 'postgres'));
      lifecycle.register(draining('http-server'));
      await lifecycle.start();
      lifecycle.register(draining('never-started'));
      lifecycle.handleSignal('SIGTERM');
      // With drainMs 0 the first stop begins in the same tick: the drains come before it.
      expect(events.slice(3, 5)).toEqual([
        'drain http-server (ready failing)',
        'drain metrics-server (ready failing)',
      ]);
      await until(() => exits.length > 0);
      expect(events.slice(5)).toEqual(['stop http-server', 'stop postgres', 'stop metrics-server']);
      expect(exits).toEqual([0]);
    },
  );

  it('logs a component whose drain throws and still stops everything, once', async () => {
    const { events, exits, lifecycle, logs } = setup();
    let drains = 0;
    lifecycle.register(recorder(events, 'postgres'));
    lifecycle.register({
      ...recorder(events, 'http-server'),
      drain: () => {
        drains++;
        throw new Error('drain bug');
      },
    });
    await lifecycle.start();
    lifecycle.handleSignal('SIGTERM');
    await lifecycle.stop();
    await until(() => exits.length > 0);
    expect(drains).toBe(1);
    expect(events.slice(2)).toEqual(['stop http-server', 'stop postgres']);
    expect(logs.lines.map((line) => line.msg)).toContain('component failed to drain');
    expect(exits).toEqual([0]);
  });

  it('still stops the other components when one fails to stop, and exits 1', async () => {
    const { events, exits, lifecycle } = setup();
    lifecycle.register(recorder(events, 'postgres'));
    lifecycle.register(recorder(events, 'worker', async () => Promise.reject(new Error('stuck job'))));
    await lifecycle.start();
    lifecycle.handleSignal('SIGTERM');
    await until(() => exits.length > 0);
    expect(events.slice(2)).toEqual(['stop worker', 'stop postgres']);
    expect(exits).toEqual([1]);
  });

  it('exits 1 when a component hangs past the deadline', async () => {
    const { events, exits, lifecycle, logs } = setup({ timeoutMs: 150 });
    lifecycle.register(recorder(events, 'worker', () => new Promise<void>(() => undefined)));
    await lifecycle.start();
    lifecycle.handleSignal('SIGTERM');
    await until(() => exits.length > 0);
    expect(exits).toEqual([1]);
    expect(logs.lines.map((line) => line.msg)).toContain('shutdown deadline passed; forcing exit');
  });

  it('exits 1 at once on a second signal', async () => {
    const { exits, lifecycle } = setup({ drainMs: 5000 });
    await lifecycle.start();
    lifecycle.handleSignal('SIGTERM');
    lifecycle.handleSignal('SIGINT');
    expect(exits).toEqual([1]);
  });
});
