/** Health status values of the IETF draft "Health Check Response Format for HTTP APIs". */
export type HealthStatus = 'pass' | 'warn' | 'fail';

/** One entry of a `checks` array in `application/health+json`. */
export interface HealthCheckResult {
  status: HealthStatus;
  componentType?: string;
  observedValue?: number | string;
  observedUnit?: string;
  time: string;
  output?: string;
}

/** The body of `/health/live` and `/health/ready`. */
export interface HealthResponse {
  status: HealthStatus;
  serviceId: string;
  description: string;
  checks: Record<string, HealthCheckResult[]>;
  output?: string;
}

/** What a check's `run` may report; with nothing, the check passes and reports its response time. */
export interface HealthCheckOutcome {
  status?: Exclude<HealthStatus, 'fail'>;
  /** Defaults to the time the check took, in ms. */
  observedValue?: number | string;
  observedUnit?: string;
  output?: string;
}

/**
 * A readiness check for one dependency. Throwing (or timing out) means `fail` and readiness answers 503;
 * returning `{ status: 'warn' }` keeps readiness 200 but shows the warning.
 *
 * @example
 * const queueDepth: HealthCheck = {
 *   name: 'jobs', measurement: 'queueDepth', componentType: 'datastore',
 *   async run() { const depth = await queue.depth(); return { status: depth > 1000 ? 'warn' : 'pass', observedValue: depth, observedUnit: 'jobs' }; },
 * };
 */
export interface HealthCheck {
  /** The dependency, e.g. `postgres`; with `measurement` it forms the key `postgres:responseTime`. */
  name: string;
  /** Defaults to `responseTime`. */
  measurement?: string;
  /** e.g. `datastore`, `component`, `system`. */
  componentType?: string;
  /** Time-out in ms; default {@link DEFAULT_CHECK_TIMEOUT_MS}. */
  timeoutMs?: number;
  run(): Promise<HealthCheckOutcome | void>;
}

/** Default time-out of one check, ms: readiness answers within about this even if a dependency hangs. */
export const DEFAULT_CHECK_TIMEOUT_MS = 1000;

/** Media type of health answers (draft-inadarei-api-health-check). */
export const HEALTH_CONTENT_TYPE = 'application/health+json';
