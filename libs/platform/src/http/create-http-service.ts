import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HEALTH_LIVE_PATH, HEALTH_READY_PATH, mountHealthRoutes } from '../health/health-routes';
import type { HealthRegistry } from '../health/health-registry';
import { HttpMetrics } from './http-metrics';
import { notFoundHandler, problemMiddleware } from './problem-middleware';
import { installRequestLogger, requestContextMiddleware } from './request-context-middleware';
import { METRICS_PATH, metricsHandlers, metricsPlacement, trustProxyValue } from './metrics-endpoint';

/** express.json, skipped outright for requests without a body (most GETs) to keep the hot path short. */
function jsonBodyParser(limit: string | number): RequestHandler {
  const parse = express.json({ limit });
  return function jsonBody(req, res, next) {
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) next();
    else parse(req, res, next);
  };
}

/** Options of {@link createHttpService}; a `ServiceContext` has all but `routes`, so `{ ...ctx, routes }` works. */
export interface HttpServiceOptions {
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
  /** Largest JSON body, e.g. `100kb` (BODY_LIMIT). */
  bodyLimit?: string | number;
  /**
   * The service's config (`{ ...ctx }` passes it): `METRICS_PORT`, `PORT` and `METRICS_TOKEN` decide whether
   * this app serves `/metrics` ({@link metricsPlacement}), `TRUST_PROXY` sets Express' `trust proxy` (whose
   * `X-Forwarded-For` gives `req.ip`). Without it `/metrics` is served here, open.
   */
  config?: unknown;
  /** Mounts the service's own routes; called after the platform middleware, before 404 and error handling. */
  routes(app: Express): void;
}

/**
 * An Express 5 app with everything a service gets for free: request ids, per-request JSON log lines,
 * Prometheus `/metrics` (unless the config puts it on its own port: {@link metricsPlacement}), `/health/live` + `/health/ready`, a JSON body limit, 404s and ONE error middleware
 * answering `application/problem+json` without stack traces. Async handlers may throw: Express 5 forwards
 * rejections to the error middleware.
 *
 * @example
 * const app = createHttpService({
 *   ...ctx,
 *   bodyLimit: ctx.config.BODY_LIMIT,
 *   routes: (app) => app.get('/applets/:id', async (req, res) => { res.json(await repo.get(req.params.id)); }),
 * });
 */
export function createHttpService(options: HttpServiceOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  const trustProxy = (options.config as { TRUST_PROXY?: unknown } | undefined)?.TRUST_PROXY;
  if (typeof trustProxy === 'string') app.set('trust proxy', trustProxyValue(trustProxy));
  const metrics = metricsPlacement(options.config);
  installRequestLogger(app, options.logger);
  app.use(
    requestContextMiddleware({
      logger: options.logger,
      metrics: new HttpMetrics(options.metrics),
      quietPaths: new Set([HEALTH_LIVE_PATH, HEALTH_READY_PATH, METRICS_PATH]),
    }),
  );
  app.use(jsonBodyParser(options.bodyLimit ?? '100kb'));
  mountHealthRoutes(app, options.health);
  if (metrics.onApiPort) app.get(METRICS_PATH, ...metricsHandlers(options.metrics, metrics.token));
  options.routes(app);
  app.use(notFoundHandler);
  app.use(problemMiddleware);
  return app;
}
