import type { PartnerSandboxDatabase } from '../data/database';
import { clearFaults, readFaults, takeFailNext, writeFaults } from '../data/fault-repository';
import type { Faults } from './faults';

/**
 * The faults in effect for one process: the run-time ones from Postgres (so every replica injects the same),
 * re-read at most every `refreshMs`, else the configured ones. A change made through this process applies
 * to it at once; other replicas see it within `refreshMs`.
 *
 * @example
 *   const state = new FaultState(db, configuredFaults(config), 1000);
 *   const faults = await state.current();
 */
export class FaultState {
  private cached: { faults: Faults; runTime: boolean; readAt: number } | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly db: PartnerSandboxDatabase,
    private readonly configured: Faults,
    private readonly refreshMs: number,
  ) {}

  /** The faults in effect, and whether they were set at run time (else they are the configured ones). */
  async current(): Promise<{ faults: Faults; runTime: boolean }> {
    if (this.cached === undefined || performance.now() - this.cached.readAt > this.refreshMs) {
      this.reading ??= this.refresh().finally(() => (this.reading = undefined));
      await this.reading;
    }
    const { faults, runTime } = this.cached as NonNullable<typeof this.cached>;
    return { faults, runTime };
  }

  /** Sets the run-time faults for every replica. */
  async set(faults: Faults): Promise<void> {
    await writeFaults(this.db, faults);
    this.cached = { faults, runTime: true, readAt: performance.now() };
  }

  /** Drops the run-time faults: the configured ones apply again. */
  async reset(): Promise<void> {
    await clearFaults(this.db);
    this.cached = { faults: this.configured, runTime: false, readAt: performance.now() };
  }

  /**
   * Takes one `fail_next` call if one is left (across replicas); true when this call must fail. Asks
   * Postgres only while the cached counter says some are left.
   */
  async takeFailNext(): Promise<boolean> {
    const { faults } = await this.current();
    if (faults.fail_next <= 0) return false;
    const left = await takeFailNext(this.db);
    if (this.cached) this.cached.faults = { ...this.cached.faults, fail_next: left ?? 0 };
    return left !== undefined;
  }

  private async refresh(): Promise<void> {
    const stored = await readFaults(this.db);
    this.cached = stored
      ? { faults: { ...stored.faults, fail_next: stored.failNext }, runTime: true, readAt: performance.now() }
      : { faults: this.configured, runTime: false, readAt: performance.now() };
  }
}
