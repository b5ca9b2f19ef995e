import { abort, type Running } from './run-context';

/**
 * The lease of one take: a token the take script recorded with the jobs it handed out, and the local deadline
 * of that lease. `confirmedUntil` is when the take or renewal Redis last confirmed was SENT plus `leaseMs`
 * (performance.now() ms): Redis set the expiry after that moment, so the lease lasts at least until then on
 * any clock that runs at the same rate. When that passes without a confirmed renewal (Redis unreachable, or
 * too slow), every job of the lease has its `signal` aborted: another worker may be running it by now.
 *
 * @example
 * const lease = new TakeLease(token, sentAt, 30_000, onExpired);
 * lease.add(run);
 * lease.confirm(renewalSentAt, 30_000);
 */
export class TakeLease {
  /** The jobs of the take; those with `settled` set are no longer held (an array: cheaper than a Set per job). */
  readonly jobs: Running[] = [];
  /** Jobs of the take not settled yet. */
  private held = 0;
  expired = false;
  private confirmedUntil: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly token: string,
    sentAt: number,
    leaseMs: number,
    private readonly onExpired: (lease: TakeLease) => void,
  ) {
    this.confirmedUntil = sentAt + leaseMs;
    this.arm();
  }

  add(run: Running): void {
    this.jobs.push(run);
    this.held++;
  }

  /** The jobs still held (not settled). */
  holding(): Running[] {
    return this.jobs.filter((run) => !run.settled);
  }

  /** Marks a job settled; true when the lease holds nothing more (then its timer is stopped). */
  remove(run: Running): boolean {
    if (run.settled) return false;
    run.settled = true;
    if (--this.held > 0) return false;
    this.close();
    return true;
  }

  /** Redis confirmed a renewal sent at `sentAt` (performance.now() ms). */
  confirm(sentAt: number, leaseMs: number): void {
    if (this.expired || sentAt + leaseMs <= this.confirmedUntil) return;
    this.confirmedUntil = sentAt + leaseMs;
    this.arm();
  }

  /** Ends the lease here: aborts its jobs with `reason` (they may run elsewhere) and stops the timer. */
  lose(reason: Error): void {
    this.expired = true;
    this.close();
    for (const run of this.jobs) if (!run.settled) abort(run, reason);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.lose(
          new Error(
            'lease expired: it could not be renewed in time (Redis unreachable?); another worker may run this job',
          ),
        );
        this.onExpired(this);
      },
      Math.max(0, this.confirmedUntil - performance.now()),
    );
    this.timer.unref();
  }
}
