import { Counter, Gauge, type Registry } from 'prom-client';
import { TalliedHistogram, type HistogramSeries } from '../metrics/tallied-histogram';

/** Depth of one queue by state, as `stats()` reports it. */
export interface QueueDepth {
  ready: number;
  delayed: number;
  leased: number;
  dead: number;
}

/** Reads the depth of the queues a process knows about; set by the queue so the gauge can collect lazily. */
export type DepthSource = () => Promise<Record<string, QueueDepth>>;

/** A histogram bound to one (queue, job): `observe(seconds)`. */
export type BoundHistogram = HistogramSeries;

/**
 * The per-attempt series of one (queue, job), for a worker's hot path. The started, completed and failed counts
 * are kept here and added to the shared counters in one `inc(labels, n)` per event-loop turn (prom-client
 * hashes and validates the labels on every call, which cost more than the no-op jobs it counted); a scrape
 * flushes first, so scraped values stay exact. The histograms are bound once ({@link TalliedHistogram}: no
 * label work per observation).
 *
 * @example
 * const series = metrics.series('partner-acme', 'poll-trigger');
 * series.started++;
 * series.wait.observe(0.004);
 * metrics.touch(series); // counts reach the counters before the next turn or scrape, whichever is first
 */
export interface JobSeries {
  readonly queue: string;
  readonly job: string;
  started: number;
  completed: number;
  failed: number;
  readonly run: BoundHistogram;
  readonly wait: BoundHistogram;
}

/**
 * The job system's Prometheus series, registered once per registry (a second queue on the same registry reuses
 * them). Counters are per queue and job name; `jobs_queue_depth` is read from Redis at scrape time.
 */
export class JobMetrics {
  readonly enqueued: Counter<'queue' | 'job'>;
  readonly started: Counter<'queue' | 'job'>;
  readonly completed: Counter<'queue' | 'job'>;
  readonly failed: Counter<'queue' | 'job'>;
  readonly retried: Counter<'queue' | 'job'>;
  readonly dead: Counter<'queue' | 'job'>;
  readonly leaseExpired: Counter<'queue' | 'job'>;
  readonly runSeconds: TalliedHistogram<'queue' | 'job'>;
  readonly waitSeconds: TalliedHistogram<'queue' | 'job'>;
  private readonly depthSources = new Set<DepthSource>();
  private readonly bySeries = new Map<string, Map<string, JobSeries>>();
  /** Series with counts not yet added to the counters. */
  private readonly dirty = new Set<JobSeries>();
  private flushScheduled = false;

  private constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['queue', 'job'] as const;
    const counter = (name: string, help: string, collect?: () => void) =>
      new Counter({ name, help, labelNames, registers, collect });
    // Scrapes of the tallied counters add the pending counts first.
    const flush = (): void => this.flush();
    this.enqueued = counter('jobs_enqueued_total', 'Jobs added to a queue (unique duplicates not counted).');
    this.started = counter('jobs_started_total', 'Job attempts started by a worker.', flush);
    this.completed = counter('jobs_completed_total', 'Job attempts that succeeded.', flush);
    this.failed = counter('jobs_failed_total', 'Job attempts that threw (retried or dead-lettered).', flush);
    this.retried = counter('jobs_retried_total', 'Failed attempts scheduled to run again after a backoff.');
    this.dead = counter('jobs_dead_total', 'Jobs moved to the dead-letter set after their last attempt.');
    this.leaseExpired = counter(
      'jobs_lease_expired_total',
      'Leases that expired because a worker died or lost Redis; the job runs again.',
    );
    const buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
    this.runSeconds = new TalliedHistogram({
      name: 'jobs_run_seconds',
      help: 'Handler run time per attempt.',
      labelNames,
      buckets,
      registers,
    });
    this.waitSeconds = new TalliedHistogram({
      name: 'jobs_wait_seconds',
      help: 'Time from when a job was due (enqueued or its run-at) to when a worker started it.',
      labelNames,
      buckets,
      registers,
    });
    const sources = this.depthSources;
    new Gauge({
      name: 'jobs_queue_depth',
      help: 'Jobs per queue and state (ready, delayed, leased, dead), read from Redis at scrape time.',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        for (const source of sources) {
          const depths = await source();
          for (const [queue, depth] of Object.entries(depths)) {
            for (const [state, value] of Object.entries(depth)) this.set({ queue, state }, value);
          }
        }
      },
    });
  }

  private static readonly byRegistry = new WeakMap<Registry, JobMetrics>();

  /** The metrics of `registry`, created on first use. */
  static for(registry: Registry): JobMetrics {
    let metrics = JobMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new JobMetrics(registry);
      JobMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  /** The tallied series of (queue, job), created on first use and shared by every worker on this registry. */
  series(queue: string, job: string): JobSeries {
    let byJob = this.bySeries.get(queue);
    if (!byJob) {
      byJob = new Map();
      this.bySeries.set(queue, byJob);
    }
    let series = byJob.get(job);
    if (!series) {
      series = {
        queue,
        job,
        started: 0,
        completed: 0,
        failed: 0,
        run: this.runSeconds.labels(queue, job),
        wait: this.waitSeconds.labels(queue, job),
      };
      byJob.set(job, series);
    }
    return series;
  }

  /** Marks `series` as holding counts; they reach the counters at the end of this event-loop turn at the latest. */
  touch(series: JobSeries): void {
    this.dirty.add(series);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Adds every pending count to the counters now (called before each scrape and when a worker stops). */
  flush(): void {
    this.flushScheduled = false;
    for (const series of this.dirty) {
      const labels = { queue: series.queue, job: series.job };
      if (series.started > 0) this.started.inc(labels, series.started);
      if (series.completed > 0) this.completed.inc(labels, series.completed);
      if (series.failed > 0) this.failed.inc(labels, series.failed);
      series.started = series.completed = series.failed = 0;
    }
    this.dirty.clear();
  }

  /** Adds a source of queue depths to the gauge; returns a function that removes it. */
  addDepthSource(source: DepthSource): () => void {
    this.depthSources.add(source);
    return () => this.depthSources.delete(source);
  }
}
