/**
 * A worker process for the crash, connection and shutdown tests (run with `node --import tsx`). It runs the
 * `record` job: sleep JOB_MS (stopping early if its signal aborts, when HONOUR_SIGNAL=1), then count the run
 * in Redis (`<prefix>runs`, id -> runs) so the test can assert the exact set of completions.
 * Env: REDIS_URL, PREFIX, QUEUE, LEASE_MS, JOB_MS, CONCURRENCY, PREFETCH, SHUTDOWN_MS, HONOUR_SIGNAL, and
 * RATE_MAX with RATE_INTERVAL_MS for a rate limit on QUEUE.
 * Prints "ready" once started; stops gracefully on SIGTERM and exits 0.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { defineJob } from '../job-definition';
import { JobQueue } from '../job-queue';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const redis = new Redis(env('REDIS_URL'), { connectionName: env('CONNECTION_NAME', 'jobs-test-worker') });
const prefix = env('PREFIX');
const jobMs = Number(env('JOB_MS', '20'));
const honourSignal = env('HONOUR_SIGNAL', '0') === '1';

const recordJob = defineJob(
  'record',
  z.object({ n: z.number() }),
  async (_payload, { id, signal }) => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, jobMs);
      if (honourSignal) {
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      }
    });
    await redis.hincrby(`${prefix}runs`, id, 1);
  },
  { queue: env('QUEUE', 'crash'), maxAttempts: 50, backoff: { baseMs: 10, maxMs: 50 } },
);

const queue = new JobQueue({
  redis,
  prefix,
  createConnection: () => redis.duplicate({ connectionName: env('CONNECTION_NAME', 'jobs-test-worker') }),
});
const worker = queue.createWorker({
  jobs: [recordJob],
  concurrency: Number(env('CONCURRENCY', '8')),
  ...(process.env.PREFETCH === undefined ? {} : { prefetch: Number(process.env.PREFETCH) }),
  leaseMs: Number(env('LEASE_MS', '1000')),
  shutdownTimeoutMs: Number(env('SHUTDOWN_MS', '2000')),
  pollIntervalMs: 200,
  ...(process.env.RATE_MAX === undefined
    ? {}
    : {
        rateLimits: {
          [env('QUEUE', 'crash')]: {
            max: Number(process.env.RATE_MAX),
            intervalMs: Number(env('RATE_INTERVAL_MS')),
          },
        },
      }),
});

process.on('SIGTERM', () => {
  void worker
    .stop()
    .then(() => redis.quit())
    .then(() => process.exit(0));
});
void worker.start().then(() => process.stdout.write('ready\n'));
