/** Settings shared by the benchmark and its worker processes, so both systems run with equal guarantees. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BENCH_PREFIX = 'bench:jobs:';
export const ITTD_QUEUE = 'bench';
export const BULLMQ_QUEUE = 'bench';
/** The rate limiter is on for both (so its code path runs) but far above what the bench reaches. */
export const ITTD_RATE_LIMIT = { max: 10_000_000, intervalMs: 1000 };
export const BULLMQ_OPTIONS = {
  prefix: `${BENCH_PREFIX}bullmq`,
  limiter: { max: 10_000_000, duration: 1000 },
};
/** Same retry policy as the platform default (10 attempts, exponential from 1 s); completed jobs removed. */
export const BULLMQ_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: false,
};
