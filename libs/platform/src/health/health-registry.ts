import {
  DEFAULT_CHECK_TIMEOUT_MS,
  type HealthCheck,
  type HealthCheckResult,
  type HealthResponse,
  type HealthStatus,
} from './health-types';

const SEVERITY: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs one check under its time-out; never throws. */
async function runCheck(check: HealthCheck): Promise<HealthCheckResult> {
  const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const started = performance.now();
  const time = new Date().toISOString();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  const base = check.componentType ? { componentType: check.componentType } : {};
  try {
    const outcome = (await Promise.race([check.run(), timeout])) ?? {};
    const result: HealthCheckResult = {
      ...base,
      status: outcome.status ?? 'pass',
      observedValue: outcome.observedValue ?? Math.round(performance.now() - started),
      observedUnit: outcome.observedUnit ?? (outcome.observedValue === undefined ? 'ms' : undefined),
      time,
    };
    if (result.observedUnit === undefined) delete result.observedUnit;
    if (outcome.output) result.output = outcome.output;
    return result;
  } catch (error) {
    return {
      ...base,
      status: 'fail',
      observedValue: Math.round(performance.now() - started),
      observedUnit: 'ms',
      time,
      output: errorMessage(error),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The readiness state of one process: the registered dependency checks plus the shutdown flag. The
 * lifecycle flips it to `fail` the moment shutdown begins, so the load balancer stops sending traffic
 * while in-flight requests drain.
 *
 * @example
 * const health = new HealthRegistry('applets');
 * health.add(postgresCheck(db));
 * const body = await health.readiness(); // { status: 'pass', checks: { 'postgres:responseTime': [...] } }
 */
export class HealthRegistry {
  private readonly checks: HealthCheck[] = [];
  private shuttingDown = false;

  constructor(private readonly serviceId: string) {}

  /** Registers a readiness check; checks run in parallel on every `/health/ready`. */
  add(check: HealthCheck): void {
    this.checks.push(check);
  }

  /** Readiness fails from now on (called by the lifecycle when a stop signal arrives). */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Whether shutdown has begun. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** The liveness answer: the process is up and its event loop turns. Never checks dependencies. */
  liveness(): HealthResponse {
    return {
      status: 'pass',
      serviceId: this.serviceId,
      description: `${this.serviceId} liveness`,
      checks: {},
    };
  }

  /** Runs every check (each under its own time-out) and combines them: the worst status wins. */
  async readiness(): Promise<HealthResponse> {
    const description = `${this.serviceId} readiness`;
    if (this.shuttingDown) {
      return { status: 'fail', serviceId: this.serviceId, description, checks: {}, output: 'shutting down' };
    }
    const results = await Promise.all(this.checks.map(runCheck));
    const checks: Record<string, HealthCheckResult[]> = {};
    let status: HealthStatus = 'pass';
    this.checks.forEach((check, index) => {
      const key = `${check.name}:${check.measurement ?? 'responseTime'}`;
      const result = results[index];
      (checks[key] ??= []).push(result);
      if (SEVERITY[result.status] > SEVERITY[status]) status = result.status;
    });
    // Shutdown may have begun while the checks ran.
    if (this.shuttingDown)
      return { status: 'fail', serviceId: this.serviceId, description, checks, output: 'shutting down' };
    return { status, serviceId: this.serviceId, description, checks };
  }
}
