import { takeScript } from './queue-scripts';
import { TakeLease } from './take-lease';
import type { WorkerHost } from './worker-host';
import type { QueueState, Running } from './worker-queue';

/** What one take brought: the jobs (under one lease) and when to look again (see takeScript). */
export interface TakeResult {
  nextDueMs: number;
  jobs: Running[];
}

/**
 * One take of up to `max` jobs of `q` under `token`, carrying the completions recorded so far (put back if the
 * call fails). Reclaimed and dead-lettered jobs the script reports are counted and emitted here. The jobs get
 * a {@link TakeLease} whose local deadline starts when the call was sent.
 *
 * @example
 * const { jobs, nextDueMs } = await takeJobs(host, q, tokens.next(), 50, 30_000, onLeaseExpired);
 */
export async function takeJobs(
  host: WorkerHost,
  q: QueueState,
  token: string,
  max: number,
  leaseMs: number,
  onLeaseExpired: (lease: TakeLease) => void,
): Promise<TakeResult> {
  const carried = q.acks.carry();
  let reply: (string | number)[];
  q.taking++;
  const sentAt = performance.now();
  try {
    reply = (await takeScript.run(host.redis, q.keys.all, [
      token,
      max,
      leaseMs,
      q.rate?.max ?? 0,
      q.rate?.intervalMs ?? 0,
      carried.packed,
    ])) as (string | number)[];
  } catch (error) {
    carried.restore();
    throw error;
  } finally {
    q.taking--;
  }
  const reclaimed = Number(reply[1]);
  for (let i = 2; i < 2 + reclaimed * 2; i += 2) {
    const name = String(reply[i]);
    const dead = reply[i + 1] === 1;
    host.metrics?.leaseExpired.labels(q.keys.queue, name).inc();
    if (dead) host.metrics?.dead.labels(q.keys.queue, name).inc();
    host.events.emit('leaseExpired', { queue: q.keys.queue, name, dead });
  }
  const jobs: Running[] = [];
  if (reply.length > 2 + reclaimed * 2) {
    let lease = q.leases.get(token);
    if (lease) lease.confirm(sentAt, leaseMs);
    else {
      lease = new TakeLease(token, sentAt, leaseMs, onLeaseExpired);
      q.leases.set(token, lease);
    }
    for (let i = 2 + reclaimed * 2; i < reply.length; i += 3) {
      const run: Running = {
        queue: q,
        lease,
        id: String(reply[i]),
        attempt: Number(reply[i + 1]),
        raw: String(reply[i + 2]),
        controller: null,
        abortReason: null,
        released: false,
        settled: false,
      };
      lease.add(run);
      jobs.push(run);
    }
  }
  return { nextDueMs: Number(reply[0]), jobs };
}
