import { retryDelayMs, type JobDefinition } from './job-definition';
import type { JobSeries } from './job-metrics';
import { errorText } from './job-record';
import { PermanentJobError } from './permanent-job-error';
import type { WorkerHost } from './worker-host';
import type { Running } from './worker-queue';

const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 600_000 };

/**
 * Records a failed attempt of `run`: a retry after the job's backoff, or the dead-letter set after its last
 * attempt or a {@link PermanentJobError} (same batched, lease-fenced ack either way, unless the job was handed
 * back), with its metrics, events and log line.
 *
 * @example
 * recordFailure(host, run, 'send-mail', 10, definition, error, series, startedAt);
 */
export function recordFailure(
  host: WorkerHost,
  run: Running,
  name: string,
  maxAttempts: number,
  definition: JobDefinition | undefined,
  error: unknown,
  series: JobSeries | undefined,
  startedAt: number,
): void {
  const metrics = host.metrics;
  if (series && metrics) {
    series.run.observe((performance.now() - startedAt) / 1000);
    series.failed++;
    metrics.touch(series);
  }
  const queueName = run.queue.keys.queue;
  const text = errorText(error);
  const permanent = error instanceof PermanentJobError;
  const last = permanent || run.attempt >= maxAttempts;
  const retryInMs = last ? null : retryDelayMs(run.attempt, definition?.backoff ?? DEFAULT_BACKOFF);
  if (!run.released) {
    const entry = JSON.stringify({ attempt: run.attempt, at: Date.now(), error: text });
    run.queue.acks.fail(last ? 'd' : 'r', run.lease.token, run.id, retryInMs ?? 0, entry);
    run.queue.acks.schedule();
  }
  const event = { queue: queueName, id: run.id, name, attempt: run.attempt, error: text };
  host.events.emit('failed', { ...event, retryInMs });
  if (last) {
    metrics?.dead.labels(queueName, name).inc();
    host.events.emit('dead', event);
    host.logger?.error(
      { ...event, permanent },
      permanent
        ? 'job dead-lettered: permanent failure, not retried'
        : 'job dead-lettered after its last attempt',
    );
  } else {
    metrics?.retried.labels(queueName, name).inc();
    host.logger?.warn({ ...event, retryInMs }, 'job attempt failed; will retry');
  }
}
