import { Counter, type Registry } from 'prom-client';
import { TalliedHistogram, type HistogramSeries } from '../metrics/tallied-histogram';

/** Route label of requests no route matched (404s, probes for random paths): one series, not one per path. */
export const UNMATCHED_ROUTE = '(unmatched)';

type HttpLabel = 'method' | 'route' | 'status';

/** One (method, route, status): requests answered since the last flush, and its bound duration histogram. */
interface RouteSeries {
  readonly labels: Readonly<Record<HttpLabel, string | number>>;
  pending: number;
  readonly duration: HistogramSeries;
}

/**
 * The series of one registry, shared by every HttpMetrics on it (an app built twice on one service context).
 * Request counts are added to the counter once per event-loop turn and before each scrape (prom-client hashes
 * and validates the labels on every `inc`), so scraped values are exact.
 */
class HttpSeries {
  private readonly requests: Counter<HttpLabel>;
  private readonly duration: TalliedHistogram<HttpLabel>;
  private readonly byKey = new Map<string, RouteSeries>();
  private dirty: RouteSeries[] = [];

  constructor(registry: Registry) {
    const labelNames = ['method', 'route', 'status'] as const;
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames,
      registers: [registry],
      collect: () => this.flush(),
    });
    this.duration = new TalliedHistogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to the last byte of the answer, by method, route template and status',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${status} ${method} ${route}`;
    let series = this.byKey.get(key);
    if (!series) {
      series = {
        labels: { method, route, status },
        pending: 0,
        duration: this.duration.labels(method, route, status),
      };
      this.byKey.set(key, series);
    }
    if (series.pending++ === 0) {
      if (this.dirty.length === 0) setImmediate(() => this.flush());
      this.dirty.push(series);
    }
    series.duration.observe(seconds);
  }

  /** Adds the pending counts to the counter (end of the turn, and before a scrape). */
  flush(): void {
    const dirty = this.dirty;
    this.dirty = [];
    for (const series of dirty) {
      this.requests.inc(series.labels, series.pending);
      series.pending = 0;
    }
  }
}

const byRegistry = new WeakMap<Registry, HttpSeries>();

/**
 * The HTTP request metrics of one service, labelled by method, route template (`/applets/:id`, never the raw
 * path, to bound cardinality) and status code: `http_requests_total` and `http_request_duration_seconds`.
 *
 * @example
 * const httpMetrics = new HttpMetrics(registry);
 * httpMetrics.record('GET', '/applets/:id', 200, 0.004);
 */
export class HttpMetrics {
  private readonly series: HttpSeries;

  /** Reuses the metrics if the registry has them already (an app built twice on one service context). */
  constructor(registry: Registry) {
    let series = byRegistry.get(registry);
    if (!series) {
      series = new HttpSeries(registry);
      byRegistry.set(registry, series);
    }
    this.series = series;
  }

  /** Counts one answered request and its duration in seconds. */
  record(method: string, route: string, status: number, seconds: number): void {
    this.series.record(method, route, status, seconds);
  }
}
