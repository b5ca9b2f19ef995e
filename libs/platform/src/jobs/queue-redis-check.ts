import type { Redis } from 'ioredis';
import type { HealthCheck } from '../health/health-types';
import type { WorkerHost } from './worker-host';

/**
 * What the job queue needs from Redis, read from the server:
 * - `maxmemory-policy` must be `noeviction`. Any other policy lets Redis delete keys when memory runs out, and
 *   the queue's keys (a job's record, a lease) are as evictable as a cache entry: jobs vanish silently.
 * - Persistence: with neither AOF nor RDB, a restart loses every job; with RDB only, the writes since the last
 *   snapshot. `appendonly yes` (AOF, fsync every second by default) loses at most about a second.
 * CONFIG GET is tried first; managed Redis services often disable it, then INFO is read instead (it has the
 * eviction policy and whether AOF is on, not the RDB schedule).
 */
export interface QueueRedisFindings {
  status: 'pass' | 'warn' | 'fail';
  /** What was found, in one line (the reason when not `pass`). */
  output: string;
  evictionPolicy: string;
  persistence: 'aof' | 'rdb' | 'none' | 'no aof (rdb unknown)';
}

async function configGet(redis: Redis, name: string): Promise<string | null> {
  try {
    const reply = (await redis.config('GET', name)) as string[];
    return reply.length >= 2 ? reply[1] : null;
  } catch {
    return null;
  }
}

function infoField(info: string, field: string): string | null {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match ? match[1].trim() : null;
}

/**
 * Reads the eviction policy and persistence of the queue's Redis (see {@link QueueRedisFindings}).
 *
 * @example
 * const found = await checkQueueRedis(redis); // { status: 'warn', output: 'Redis persistence is off: …', … }
 */
export async function checkQueueRedis(redis: Redis): Promise<QueueRedisFindings> {
  let policy = await configGet(redis, 'maxmemory-policy');
  let persistence: QueueRedisFindings['persistence'];
  const appendonly = policy === null ? null : await configGet(redis, 'appendonly');
  if (policy !== null && appendonly !== null) {
    const save = (await configGet(redis, 'save')) ?? '';
    persistence = appendonly === 'yes' ? 'aof' : save.trim() !== '' ? 'rdb' : 'none';
  } else {
    const info = await redis.info();
    policy = infoField(info, 'maxmemory_policy') ?? 'unknown';
    persistence = infoField(info, 'aof_enabled') === '1' ? 'aof' : 'no aof (rdb unknown)';
  }
  if (policy !== 'noeviction') {
    return {
      status: 'fail',
      evictionPolicy: policy,
      persistence,
      output: `Redis maxmemory-policy is ${policy}: it may evict job queue keys and lose jobs; set it to noeviction`,
    };
  }
  if (persistence !== 'aof') {
    return {
      status: 'warn',
      evictionPolicy: policy,
      persistence,
      output:
        persistence === 'rdb'
          ? 'Redis persistence is RDB snapshots only: a restart loses the jobs enqueued since the last one; set appendonly yes'
          : `Redis persistence is off (${persistence}): a restart loses every job; set appendonly yes`,
    };
  }
  return { status: 'pass', evictionPolicy: policy, persistence, output: 'noeviction, appendonly yes' };
}

/**
 * Readiness check of what the job queue needs from its Redis: `fail` when `maxmemory-policy` is not
 * `noeviction` (Redis may delete jobs), `warn` when persistence is off or RDB only (a restart loses jobs).
 *
 * @example
 * health.add(queueRedisCheck(jobs));
 * // /health/ready -> checks['jobs:redisConfig'] = [{ status: 'warn', output: 'Redis persistence is off (none): …' }]
 */
export function queueRedisCheck(queue: Pick<WorkerHost, 'redis'>): HealthCheck {
  return {
    name: 'jobs',
    measurement: 'redisConfig',
    componentType: 'datastore',
    async run() {
      const found = await checkQueueRedis(queue.redis);
      if (found.status === 'fail') throw new Error(found.output);
      return { status: found.status, output: found.output, observedValue: found.evictionPolicy };
    },
  };
}
