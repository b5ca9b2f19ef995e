import { randomUUID } from 'node:crypto';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { UNMATCHED_ROUTE, type HttpMetrics } from './http-metrics';
import './request-types';

/** The header carrying the request id in and out (also what IFTTT sends on every Service API call). */
export const REQUEST_ID_HEADER = 'x-request-id';

const SANE_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

/** Fields the request context keeps on the request between arrival and the `finish` event. */
interface TimedRequest extends Request {
  startedAt: number;
}

/** Options of {@link requestContextMiddleware}. */
export interface RequestContextOptions {
  logger: Logger;
  metrics: HttpMetrics;
  /** Paths answered without a per-request info log line (probes every few seconds drown the logs). */
  quietPaths?: ReadonlySet<string>;
}

/** The route template the request matched, e.g. `/applets/:id`, or {@link UNMATCHED_ROUTE}. */
function routeLabel(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  if (route === undefined) return UNMATCHED_ROUTE;
  const path = typeof route.path === 'string' ? route.path : String(route.path);
  return req.baseUrl === '' ? path : req.baseUrl + path;
}

/**
 * Gives every request of `app` a `req.log`: a child logger with `reqId`, created on first use only (most
 * requests never log beyond their completion line, and a pino child per request shows in the benchmark).
 *
 * @example
 * installRequestLogger(app, logger);
 * app.get('/x', (req, res) => { req.log.info('hi'); res.end(); }); // {"reqId":"...","msg":"hi"}
 */
export function installRequestLogger(app: Express, logger: Logger): void {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request): Logger {
      const log = logger.child({ reqId: this.id });
      Object.defineProperty(this, 'log', { value: log, writable: true, configurable: true });
      return log;
    },
  });
}

/**
 * The first middleware of every service: request id (taken from `X-Request-ID` when sane, else a UUID, and
 * echoed), one log line with `reqId` and one metrics sample per answered request. One `finish` listener per
 * request and no closures per request: this is the hot path. `req.log` comes from {@link installRequestLogger}.
 *
 * @example
 * installRequestLogger(app, logger);
 * app.use(requestContextMiddleware({ logger, metrics: new HttpMetrics(registry) }));
 */
export function requestContextMiddleware(options: RequestContextOptions): RequestHandler {
  const { metrics } = options;
  const quietPaths = options.quietPaths ?? new Set<string>();
  // The completion line has six fixed fields of our own (no header, body or config value), none named like a
  // secret key, so the service logger's key-path redaction has nothing to find in it; its wildcard paths
  // (`*.DATABASE_URL`) still cost ~1.7 us per line, a fifth of the platform's overhead per request. Same
  // level, bindings and format; handler logs (`req.log`) keep the redaction.
  const logger = options.logger.child({}, { redact: [] });

  function onFinish(this: Response): void {
    const req = this.req as TimedRequest;
    const seconds = (performance.now() - req.startedAt) / 1000;
    const route = routeLabel(req);
    metrics.record(req.method, route, this.statusCode, seconds);
    const fields = {
      reqId: req.id,
      method: req.method,
      url: req.originalUrl,
      route,
      status: this.statusCode,
      durationMs: Math.round(seconds * 1e4) / 10,
    };
    if (quietPaths.has(req.path)) logger.debug(fields, 'request completed');
    else logger.info(fields, 'request completed');
  }

  return function requestContext(req: Request, res: Response, next: NextFunction): void {
    (req as TimedRequest).startedAt = performance.now();
    const incoming = req.headers[REQUEST_ID_HEADER];
    const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.id = id;
    res.setHeader('X-Request-ID', id);
    res.on('finish', onFinish);
    next();
  };
}
