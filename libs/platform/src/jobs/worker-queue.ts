import { AckBatcher } from './ack-batcher';
import type { JobSeries } from './job-metrics';
import type { QueueKeys } from './queue-keys';
import type { Running as Run, RunQueue } from './run-context';
import type { TakeLease } from './take-lease';
import type { WorkerHost } from './worker-host';
import type { RateLimit } from './worker-options';

/** A worker's state for one of its queues. */
export interface QueueState extends RunQueue {
  readonly keys: QueueKeys;
  readonly rate: RateLimit | undefined;
  readonly acks: AckBatcher;
  wakeSeq: number;
  /** Loops of this queue waiting idle, woken by a pub/sub message. */
  readonly wakers: Set<() => void>;
  /** Takes in flight: completions wait for the next take instead of an ack call of their own. */
  taking: number;
  /** A renewal is in flight (a hung one is not stacked). */
  extending: boolean;
  /** A loop of this (rate-limited) queue holds a claim on the next free slots. */
  claiming: boolean;
  /** Metric series by job name (when the queue keeps metrics). */
  readonly series: Map<string, JobSeries>;
  /** Leases (one per take) that still hold jobs of this queue, by token. */
  readonly leases: Map<string, TakeLease>;
}

/** A leased job of one of the worker's queues. */
export type Running = Run<QueueState, TakeLease>;

/**
 * Fresh state for `queue`; `onError` gets the Redis errors its ack batcher recovers from.
 *
 * @example
 * const state = queueState(host, 'mail', undefined, (error) => logger.warn({ err: error }));
 */
export function queueState(
  host: WorkerHost,
  queue: string,
  rate: RateLimit | undefined,
  onError: (error: unknown) => void,
): QueueState {
  const keys = host.keys(queue);
  return {
    keys,
    rate,
    acks: new AckBatcher(host.redis, keys, onError),
    wakeSeq: 0,
    wakers: new Set(),
    taking: 0,
    extending: false,
    claiming: false,
    series: new Map(),
    leases: new Map(),
  };
}

/** The metric series of a job of `q`, looked up once per job name (no label strings built per job). */
export function seriesFor(host: WorkerHost, q: QueueState, job: string): JobSeries | undefined {
  let series = q.series.get(job);
  if (!series && host.metrics) {
    series = host.metrics.series(q.keys.queue, job);
    q.series.set(job, series);
  }
  return series;
}
