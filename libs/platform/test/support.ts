import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { createHttpService, createLogger, createMetricsRegistry, HealthRegistry } from '../src/index';

/** A port nothing listens on: bound once by us, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A pino destination collecting the parsed JSON log lines. */
export function logCollector(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { stream, lines };
}

/** The path of the fixture service's entry point, for child-process tests. */
export const FIXTURE_MAIN = new URL('./fixtures/fixture-main.ts', import.meta.url).pathname;

/** A platform app (`createHttpService`) with the given routes on a free loopback port, and its log lines. */
export async function listenHttpService(
  routes: (app: Express) => void,
): Promise<{ url: string; server: Server; logs: Array<Record<string, unknown>> }> {
  const logs = logCollector();
  const app = createHttpService({
    logger: createLogger({ service: 'http-test', destination: logs.stream }),
    metrics: createMetricsRegistry('http-test'),
    health: new HealthRegistry('http-test'),
    routes,
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, logs: logs.lines };
}
