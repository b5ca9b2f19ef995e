import type { HealthCheck } from '../health/health-types';
import type { JobQueue } from './job-queue';

/** Options of {@link queueDepthCheck}. */
export interface QueueDepthCheckOptions {
  /** Queues to watch; default every queue known under the prefix. */
  queues?: readonly string[];
  /** Ready jobs in one queue above which readiness shows `warn`. Default 10,000. */
  warnAbove?: number;
}

/**
 * Readiness check reporting the deepest queue's ready count. A backlog is a reason to look (and to scale
 * workers), never a reason to take the service out of the load balancer, so it reports `pass` or `warn` and
 * never `fail`, not even when Redis cannot be read (the Redis check reports that).
 *
 * @example
 * health.add(queueDepthCheck(jobs, { warnAbove: 5000 }));
 * // /health/ready -> checks['jobs:queueDepth'] = [{ status: 'warn', observedValue: 7200, output: 'mail: 7200 ready' }]
 */
export function queueDepthCheck(queue: JobQueue, options: QueueDepthCheckOptions = {}): HealthCheck {
  const warnAbove = options.warnAbove ?? 10_000;
  return {
    name: 'jobs',
    measurement: 'queueDepth',
    componentType: 'component',
    async run() {
      let stats;
      try {
        stats = await queue.stats(options.queues);
      } catch (error) {
        return {
          status: 'warn',
          output: `queue depth unavailable: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      const entries = Object.entries(stats);
      const deepest = Math.max(0, ...entries.map(([, depth]) => depth.ready));
      const over = entries.filter(([, depth]) => depth.ready > warnAbove);
      return {
        status: over.length > 0 ? 'warn' : 'pass',
        observedValue: deepest,
        observedUnit: 'jobs',
        ...(over.length > 0
          ? {
              output: `ready jobs above ${warnAbove}: ${over.map(([q, d]) => `${q}: ${d.ready}`).join(', ')}`,
            }
          : {}),
      };
    },
  };
}
