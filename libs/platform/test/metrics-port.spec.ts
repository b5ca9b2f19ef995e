import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  baseServiceConfig,
  ConfigError,
  createHttpService,
  createLogger,
  createMetricsRegistry,
  HealthRegistry,
  startService,
  type ServiceDefinition,
} from '../src/index';
import { logCollector } from './support';

const configSchema = z.object({ ...baseServiceConfig });
const service: ServiceDefinition<typeof configSchema> = {
  name: 'metered',
  config: configSchema,
  web: (ctx) =>
    createHttpService({
      ...ctx,
      routes: (app) => app.get('/hello', (_req, res) => void res.json({ ok: true })),
    }),
};

describe('/metrics placement', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  it('is served on its own listener by default, never on the API port', async () => {
    const running = await startService(service, {
      env: {},
      port: 0,
      host: '127.0.0.1',
      logDestination: logCollector().stream,
    });
    stops.push(running.stop);
    expect((await fetch(`${running.url}/hello`)).status).toBe(200);
    expect((await fetch(`${running.url}/metrics`)).status).toBe(404);
    expect(running.metricsUrl).toBeDefined();
    expect(running.metricsUrl).not.toBe(running.url);
    const scrape = await fetch(`${running.metricsUrl}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('http_requests_total{method="GET",route="/hello",status="200"');
    expect((await fetch(`${running.metricsUrl}/hello`)).status).toBe(404);
  });

  it('asks for METRICS_TOKEN on the metrics listener when one is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const running = await startService(service, {
      env: { METRICS_TOKEN: token },
      port: 0,
      host: '127.0.0.1',
      logDestination: logCollector().stream,
    });
    stops.push(running.stop);
    expect((await fetch(`${running.metricsUrl}/metrics`)).status).toBe(401);
    const ok = await fetch(`${running.metricsUrl}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
  });

  it('shares the API port only behind METRICS_TOKEN, which is then required', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const app = createHttpService({
      logger: createLogger({ service: 'm', destination: logCollector().stream }),
      metrics: createMetricsRegistry('m'),
      health: new HealthRegistry('m'),
      config: { PORT: 3000, METRICS_PORT: 3000, METRICS_TOKEN: token },
      routes: () => undefined,
    });
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );

    await expect(
      startService(service, {
        env: { PORT: '3456', METRICS_PORT: '3456' },
        logDestination: logCollector().stream,
      }),
    ).rejects.toThrow(ConfigError);
  });
});
