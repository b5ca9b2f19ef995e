/**
 * The worker's handler slots (`concurrency`): running handlers, and slots reserved for a take in flight on a
 * rate-limited queue. On such a queue a take counts as a start (the rate window is kept in Redis at take time),
 * so its jobs must start the moment they arrive: the worker takes only as many as there are free slots,
 * reserves them while the take is in flight, and never parks those jobs in the prefetch buffer.
 *
 * @example
 * const slots = new HandlerSlots(10);
 * const n = slots.reserve(5); // take n jobs, then:
 * slots.unreserve(n); // and start each taken job with slots.start()
 */
export class HandlerSlots {
  active = 0;
  reserved = 0;
  /** Slots claimed by rate-limited loops waiting for enough free slots: prefetched jobs leave them free. */
  claimed = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly concurrency: number) {}

  /** Slots neither running a handler nor reserved. */
  get free(): number {
    return this.concurrency - this.active - this.reserved;
  }

  /** Free slots a prefetched job may use: what the claims of waiting rate-limited loops leave. */
  get freeForPrefetched(): number {
    return this.free - this.claimed;
  }

  /** Reserves up to `wanted` free slots; returns how many. */
  reserve(wanted: number): number {
    const n = Math.max(0, Math.min(wanted, this.free));
    this.reserved += n;
    return n;
  }

  unreserve(n: number): void {
    this.reserved -= n;
    if (n > 0) this.notify();
  }

  /** A handler starts (in a reserved or free slot). */
  start(): void {
    this.active++;
  }

  /** A handler ended. */
  end(): void {
    this.active--;
    this.notify();
  }

  /** Resolves on the next change (a slot freed, a job settled, shutdown). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
