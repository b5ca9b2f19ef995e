import { extendScript } from './queue-scripts';
import type { WorkerHost } from './worker-host';
import type { QueueState } from './worker-queue';

/**
 * Renews every lease of `q` that holds jobs (one call, one ZADD per take). A lease Redis no longer has (it
 * expired and its jobs were reclaimed) aborts its jobs' signal. A renewal still in flight is not stacked; a
 * failed one is reported to `onError` and the local deadline of each lease (take-lease.ts) takes over.
 *
 * @example
 * setInterval(() => void renewLeases(host, q, 30_000, reportError), 10_000);
 */
export async function renewLeases(
  host: WorkerHost,
  q: QueueState,
  leaseMs: number,
  onError: (error: unknown) => void,
): Promise<void> {
  if (q.extending || q.leases.size === 0) return;
  const leases = [...q.leases.values()].filter((lease) => !lease.expired);
  if (leases.length === 0) return;
  q.extending = true;
  const sentAt = performance.now();
  try {
    const lost = new Set(
      (await extendScript.run(host.redis, q.keys.all, [
        leaseMs,
        ...leases.map((lease) => lease.token),
      ])) as string[],
    );
    for (const lease of leases) {
      if (!lost.has(lease.token)) lease.confirm(sentAt, leaseMs);
      else {
        lease.lose(new Error('lease lost: another worker may run this job'));
        if (q.leases.get(lease.token) === lease) q.leases.delete(lease.token);
      }
    }
  } catch (error) {
    onError(error);
  } finally {
    q.extending = false;
  }
}
