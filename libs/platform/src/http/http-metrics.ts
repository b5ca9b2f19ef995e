import { Counter, Histogram, type Registry } from 'prom-client';

/** Route label of requests no route matched (404s, probes for random paths): one series, not one per path. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The HTTP request metrics of one service, labelled by method, route template (`/applets/:id`, never the raw
 * path, to bound cardinality) and status code.
 *
 * @example
 * const httpMetrics = new HttpMetrics(registry);
 * httpMetrics.record('GET', '/applets/:id', 200, 0.004);
 */
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  /** Reuses the metrics if the registry has them already (an app built twice on one service context). */
  constructor(registry: Registry) {
    const labelNames = ['method', 'route', 'status'] as const;
    const existingRequests = registry.getSingleMetric('http_requests_total');
    const existingDuration = registry.getSingleMetric('http_request_duration_seconds');
    if (existingRequests instanceof Counter && existingDuration instanceof Histogram) {
      this.requests = existingRequests as Counter<'method' | 'route' | 'status'>;
      this.duration = existingDuration as Histogram<'method' | 'route' | 'status'>;
      return;
    }
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to the last byte of the answer, by method, route template and status',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Counts one answered request and its duration in seconds. */
  record(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}
