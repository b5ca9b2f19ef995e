import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHttpService, createLogger, createMetricsRegistry, HealthRegistry } from '../src/index';
import { logCollector } from './support';

describe('createHttpService on one registry twice', () => {
  it('shares the request metrics instead of failing on duplicate registration', async () => {
    const metrics = createMetricsRegistry('twice');
    const options = {
      logger: createLogger({ service: 'twice', destination: logCollector().stream }),
      metrics,
      health: new HealthRegistry('twice'),
      routes: () => undefined,
    };
    createHttpService(options);
    const second = createHttpService(options);
    const server = await new Promise<Server>((resolve) => {
      const listening = second.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health/live`);
      expect(await metrics.metrics()).toContain(
        'http_requests_total{method="GET",route="/health/live",status="200"',
      );
    } finally {
      server.close();
    }
  });
});
