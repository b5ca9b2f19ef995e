/**
 * Per-partner limit of the calls one worker process makes at once, so one slow partner (calls that hang
 * until PARTNER_TIMEOUT_MS) holds at most `limit` of the worker's WORKER_CONCURRENCY slots and the other
 * partners' polls keep running. Non-blocking on purpose: a job that waited here would hold its worker slot
 * while waiting, which is the starvation this prevents; a caller that gets `false` puts its job back with a
 * delay instead. Counts are per process (N worker replicas allow N x `limit` calls to one partner).
 *
 * @example
 *   const limits = new PartnerConcurrency(5);
 *   if (!limits.tryAcquire('weather')) return deferPoll();
 *   try { await poll(); } finally { limits.release('weather'); }
 */
export class PartnerConcurrency {
  private readonly running = new Map<string, number>();

  /** @param limit calls to one partner at once, at least 1 */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`partner concurrency must be >= 1, got ${limit}`);
  }

  /** Takes a slot of `partner` when one is free; `false` when `limit` calls to it run already. */
  tryAcquire(partner: string): boolean {
    const count = this.running.get(partner) ?? 0;
    if (count >= this.limit) return false;
    this.running.set(partner, count + 1);
    return true;
  }

  /** Gives back a slot taken with {@link tryAcquire}. */
  release(partner: string): void {
    const count = (this.running.get(partner) ?? 0) - 1;
    if (count <= 0) this.running.delete(partner);
    else this.running.set(partner, count);
  }

  /** Calls to `partner` running now. */
  inFlight(partner: string): number {
    return this.running.get(partner) ?? 0;
  }
}
