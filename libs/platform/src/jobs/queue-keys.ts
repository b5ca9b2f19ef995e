/**
 * Redis keys of one queue. Every key carries the hash tag `{queue}` so a queue lives in one Cluster slot and its
 * Lua scripts stay atomic on Redis Cluster. The order of {@link QueueKeys.all} is the `KEYS` order of every
 * script in `queue-scripts.ts`.
 */
export interface QueueKeys {
  readonly queue: string;
  /** Pub/sub channel that wakes idle workers (enqueue, retry, hand-back). */
  readonly wakeChannel: string;
  /**
   * `KEYS[1..12]` of every queue script: ready, delayed, leases, jobs, attempts, history, dead, unique, takes,
   * rate, rate-used, calls (see queue-scripts.ts).
   */
  readonly all: readonly string[];
  /** The set of priorities that have ready jobs (see {@link QueueKeys.readyList}). */
  readonly ready: string;
  /** The FIFO list of ready jobs of one priority. */
  readyList(priority: number): string;
  readonly delayed: string;
  readonly leases: string;
  readonly jobs: string;
  readonly attempts: string;
  readonly history: string;
  readonly dead: string;
  /** Unique key -> id of the waiting job that holds it. */
  readonly unique: string;
  /** Take token -> the ids that take holds. */
  readonly takes: string;
}

/** Default key prefix of the job system; tests use their own to run in parallel. */
export const DEFAULT_JOBS_PREFIX = 'ittd:jobs:';

/**
 * Keys of `queue` under `prefix`.
 *
 * @example
 * queueKeys('ittd:jobs:', 'mail').ready; // 'ittd:jobs:{mail}:ready'
 */
export function queueKeys(prefix: string, queue: string): QueueKeys {
  const base = `${prefix}{${queue}}:`;
  const names = [
    'ready',
    'delayed',
    'leases',
    'jobs',
    'att',
    'hist',
    'dead',
    'uniq',
    'takes',
    'rate',
    'rate-used',
    'calls',
  ] as const;
  const all = names.map((name) => base + name);
  return {
    queue,
    wakeChannel: `${base}wake`,
    all,
    ready: all[0],
    readyList: (priority: number) => `${all[0]}:${priority}`,
    delayed: all[1],
    leases: all[2],
    jobs: all[3],
    attempts: all[4],
    history: all[5],
    dead: all[6],
    unique: all[7],
    takes: all[8],
  };
}

/** Set of queue names seen by producers, so `stats` and the CLI can list queues without SCAN. */
export function queueRegistryKey(prefix: string): string {
  return `${prefix}queues`;
}
