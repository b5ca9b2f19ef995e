import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Depth of one queue by state, as `stats()` reports it. */
export interface QueueDepth {
  ready: number;
  delayed: number;
  leased: number;
  dead: number;
}

/** Reads the depth of the queues a process knows about; set by the queue so the gauge can collect lazily. */
export type DepthSource = () => Promise<Record<string, QueueDepth>>;

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
  readonly runSeconds: Histogram<'queue' | 'job'>;
  readonly waitSeconds: Histogram<'queue' | 'job'>;
  private readonly depthSources = new Set<DepthSource>();

  private constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['queue', 'job'] as const;
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames, registers });
    this.enqueued = counter('jobs_enqueued_total', 'Jobs added to a queue (unique duplicates not counted).');
    this.started = counter('jobs_started_total', 'Job attempts started by a worker.');
    this.completed = counter('jobs_completed_total', 'Job attempts that succeeded.');
    this.failed = counter('jobs_failed_total', 'Job attempts that threw (retried or dead-lettered).');
    this.retried = counter('jobs_retried_total', 'Failed attempts scheduled to run again after a backoff.');
    this.dead = counter('jobs_dead_total', 'Jobs moved to the dead-letter set after their last attempt.');
    this.leaseExpired = counter(
      'jobs_lease_expired_total',
      'Leases that expired because a worker died or lost Redis; the job runs again.',
    );
    const buckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
    this.runSeconds = new Histogram({
      name: 'jobs_run_seconds',
      help: 'Handler run time per attempt.',
      labelNames,
      buckets,
      registers,
    });
    this.waitSeconds = new Histogram({
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

  /** Adds a source of queue depths to the gauge; returns a function that removes it. */
  addDepthSource(source: DepthSource): () => void {
    this.depthSources.add(source);
    return () => this.depthSources.delete(source);
  }
}
