import express, { type Express, type RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { ConfigError } from '../config/load-config';
import { requireBearerToken } from './bearer-token-auth';
import { notFoundHandler, problemMiddleware } from './problem-middleware';

/** Path of the Prometheus endpoint. */
export const METRICS_PATH = '/metrics';

/** Where a service's `/metrics` is served, from its config (see {@link metricsPlacement}). */
export interface MetricsPlacement {
  /** Whether the API app (PORT) serves `/metrics`. */
  onApiPort: boolean;
  /** The port of the separate metrics listener, when there is one. */
  separatePort?: number;
  /** The bearer token `/metrics` asks for, if any. */
  token?: string;
}

/** The settings {@link metricsPlacement} reads (`httpConfig`). */
interface MetricsSettings {
  PORT?: unknown;
  METRICS_PORT?: unknown;
  METRICS_TOKEN?: unknown;
}

/**
 * Decides where `/metrics` goes (README "Security"). By default on its own listener (`METRICS_PORT`, 9464),
 * never on the API port: the load balancer publishes PORT only, the scraper reaches the metrics port on the
 * private network, and no token has to be handed to Prometheus. With `METRICS_PORT` equal to `PORT` (one
 * port must serve both) the API app serves it behind `METRICS_TOKEN`, which is then required (a
 * {@link ConfigError}, exit 78, otherwise). A config without `METRICS_PORT` (a bare app in a test) keeps
 * `/metrics` on the app, open.
 *
 * @example
 *   metricsPlacement({ PORT: 3000, METRICS_PORT: 9464 }); // { onApiPort: false, separatePort: 9464 }
 *   metricsPlacement({ PORT: 3000, METRICS_PORT: 3000, METRICS_TOKEN: 't…' }); // { onApiPort: true, token: 't…' }
 */
export function metricsPlacement(config: unknown, service = 'service'): MetricsPlacement {
  const settings = (typeof config === 'object' && config !== null ? config : {}) as MetricsSettings;
  const token = typeof settings.METRICS_TOKEN === 'string' ? settings.METRICS_TOKEN : undefined;
  if (typeof settings.METRICS_PORT !== 'number') return { onApiPort: true, token };
  if (settings.METRICS_PORT === settings.PORT) {
    if (token === undefined) {
      throw new ConfigError(service, [
        {
          name: 'METRICS_TOKEN',
          message: 'required when METRICS_PORT equals PORT (metrics on the API port)',
        },
      ]);
    }
    return { onApiPort: true, token };
  }
  return { onApiPort: false, separatePort: settings.METRICS_PORT, token };
}

/**
 * The `GET /metrics` handler: the registry in Prometheus' text format, behind `Authorization: Bearer
 * <token>` when a token is given (401 otherwise, compared in constant time).
 *
 * @example
 *   app.get(METRICS_PATH, ...metricsHandlers(registry, config.METRICS_TOKEN));
 */
export function metricsHandlers(metrics: Registry, token?: string): RequestHandler[] {
  const serve: RequestHandler = async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  };
  return token === undefined ? [serve] : [requireBearerToken(token), serve];
}

/**
 * The small app of the separate metrics listener: `GET /metrics` only (a bearer token when given), every
 * other path a 404 problem.
 *
 * @example
 *   const server = httpServerComponent(createMetricsApp(ctx.metrics), { port: 9464, logger, name: 'metrics-server' });
 */
export function createMetricsApp(metrics: Registry, token?: string): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get(METRICS_PATH, ...metricsHandlers(metrics, token));
  app.use(notFoundHandler);
  app.use(problemMiddleware);
  return app;
}

/**
 * Express' `trust proxy` value of a TRUST_PROXY setting: `false`/`true`, a hop count, or the list of
 * proxy addresses and subnets as Express takes it.
 *
 * @example
 *   app.set('trust proxy', trustProxyValue('1')); // 1
 */
export function trustProxyValue(setting: string): boolean | number | string {
  if (setting === 'false') return false;
  if (setting === 'true') return true;
  if (/^\d+$/.test(setting)) return Number(setting);
  return setting;
}
