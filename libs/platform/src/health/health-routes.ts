import type { Express, Response } from 'express';
import type { HealthRegistry } from './health-registry';
import { HEALTH_CONTENT_TYPE, type HealthResponse } from './health-types';

/** Paths of the health endpoints, exported for deploy tooling (Marathon health/readiness checks). */
export const HEALTH_LIVE_PATH = '/health/live';
export const HEALTH_READY_PATH = '/health/ready';

function send(res: Response, body: HealthResponse): void {
  res
    .status(body.status === 'fail' ? 503 : 200)
    .set('Cache-Control', 'no-store')
    .type(HEALTH_CONTENT_TYPE)
    .send(JSON.stringify(body));
}

/**
 * Mounts `GET /health/live` (200 while the process runs) and `GET /health/ready` (200 on pass/warn, 503 on
 * fail), answered as `application/health+json`. Directly on the app, not a sub-router: every request of
 * the service walks these layers.
 *
 * @example
 * mountHealthRoutes(app, health);
 */
export function mountHealthRoutes(app: Express, health: HealthRegistry): void {
  app.get(HEALTH_LIVE_PATH, (_req, res) => send(res, health.liveness()));
  app.get(HEALTH_READY_PATH, async (_req, res) => send(res, await health.readiness()));
}
