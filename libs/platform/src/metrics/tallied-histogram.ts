import type { Histogram, Registry } from 'prom-client';

/** One exported value, in the shape prom-client's Registry formats (`sharedLabels`: the series' labels). */
interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Readonly<Record<string, string>>;
  value: number;
  metricName: string;
}

/** What `get` and `getForPromString` return, as prom-client's metrics do. */
interface ExportedMetric {
  name: string;
  help: string;
  type: 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

/** One labelled series of a {@link TalliedHistogram}: bound once, then `observe(value)` per event. */
export interface HistogramSeries {
  /** Adds one observation (seconds, bytes...: the unit of the histogram). Non-finite values are ignored. */
  observe(value: number): void;
}

class Series implements HistogramSeries {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound (`+Inf`). */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/** Options of {@link TalliedHistogram}, as for prom-client's `Histogram`. */
export interface TalliedHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending. */
  buckets: readonly number[];
  registers: readonly Registry[];
}

/**
 * A Prometheus histogram for hot paths (a job start, an HTTP request): registered in a prom-client `Registry`
 * and exposed exactly like prom-client's `Histogram` (`_bucket` with `le`, `_sum`, `_count`, default labels
 * included), but a series is bound once with `labels(...)` and its `observe` is a bucket search and three
 * additions. prom-client 15 validates and hashes the labels on every observe, bound child included, which cost
 * about a microsecond per job in the worker (two histograms), as much as the rest of the metrics together.
 *
 * @example
 * const h = new TalliedHistogram({ name: 'jobs_run_seconds', help: '...', labelNames: ['queue', 'job'], buckets: [0.1, 1], registers: [registry] });
 * const series = h.labels('mail', 'send-mail'); // once
 * series.observe(0.042); // per event
 */
export class TalliedHistogram<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(options: TalliedHistogramOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.bounds = [...options.buckets];
    // prom-client's Registry reads metrics by this shape (name, help, type, get/getForPromString, reset).
    for (const registry of options.registers) registry.registerMetric(this as unknown as Histogram<L>);
  }

  /** The series of these label values (in `labelNames` order), created on first use; keep it for the hot path. */
  labels(...values: (string | number)[]): HistogramSeries {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = String(values[i])));
      series = new Series(labels, this.bounds);
      this.series.set(key, series);
    }
    return series;
  }

  /** One observation for labels given by name (a map lookup per call: bind with `labels` on hot paths). */
  observe(labels: Readonly<Record<L, string | number>>, value: number): void {
    this.labels(...this.labelNames.map((name) => labels[name])).observe(value);
  }

  /** What prom-client's Registry formats: the values of every series, in prom-client's shape. */
  getForPromString(): Promise<ExportedMetric> {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      const sharedLabels = series.labels;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i];
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucketName });
      values.push({ labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  /** The values with every label on the value itself (`getMetricsAsJSON`, cluster aggregation). */
  async get(): Promise<ExportedMetric> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...rest.labels, ...sharedLabels },
    }));
    return data;
  }

  /** Zeroes every series (they stay bound: callers keep their series objects). */
  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
