// One side of the HTTP stack benchmark, run as its own process by http-stack.bench.ts:
// `platform` = createHttpService (request ids, pino line per request, metrics, problem middleware) behind the
// platform's graceful server; `bare` = a bare Express 5 app. Both answer GET /hello with the same JSON.
// Sends `{ port }` over IPC once listening, and answers any later message with its CPU usage so far
// (`process.cpuUsage()`), which the benchmark turns into CPU time per request.
import { createServer, type Server } from 'node:http';
import express from 'express';
import {
  createHttpService,
  createLogger,
  createMetricsRegistry,
  HealthRegistry,
  httpServerComponent,
} from '../src/index';

const kind = process.argv[2];
const hello = { hello: 'world', service: 'bench' };

async function listen(): Promise<Server> {
  if (kind === 'bare') {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.json(hello);
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }
  if (kind === 'platform') {
    // Production logging: pino at info to stdout, which the benchmark points at /dev/null.
    const logger = createLogger({
      service: 'bench',
      level: 'info',
      secretKeys: ['DATABASE_URL', 'REDIS_URL'],
    });
    const app = createHttpService({
      logger,
      metrics: createMetricsRegistry('bench'),
      health: new HealthRegistry('bench'),
      routes(app) {
        app.get('/hello', (_req, res) => {
          res.json(hello);
        });
      },
    });
    const component = httpServerComponent(app, { port: 0, host: '127.0.0.1', logger });
    await component.start?.();
    return component.server;
  }
  throw new Error(`usage: http-stack-server.ts platform|bare (got ${kind})`);
}

void listen().then((server) => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  process.send?.({ port: address.port });
  process.on('message', () => process.send?.({ cpu: process.cpuUsage() }));
  process.on('disconnect', () => process.exit(0));
});
