import type { JobContext } from './job-definition';

/** The part of a worker's per-queue state a run refers to. */
export interface RunQueue {
  readonly keys: { readonly queue: string };
}

/** The lease a run is held under: one per take (see take-lease.ts). */
export interface RunLease {
  readonly token: string;
  /** The worker's last confirmed lease ended before it could renew it: the job may run elsewhere now. */
  readonly expired: boolean;
}

/** One leased job in a worker: prefetched and waiting, or running. */
export interface Running<Q extends RunQueue = RunQueue, L extends RunLease = RunLease> {
  readonly queue: Q;
  readonly lease: L;
  readonly id: string;
  readonly attempt: number;
  readonly raw: string;
  /** Created on first use of `context.signal` (most handlers never read it, and it costs microseconds). */
  controller: AbortController | null;
  abortReason: Error | null;
  /** Handed back on shutdown: its outcome must not be acked (the attempt number is reused by the next run). */
  released: boolean;
  /** No longer held by this worker (finished, handed back, or dropped). */
  settled: boolean;
}

/**
 * What a handler gets. A class, not an object literal with a getter, so the hot path builds one small object
 * of a stable shape per job; the abort signal is still created only when read.
 *
 * @example
 * await definition.handler(payload, new RunContext(run, 'send-mail', 10));
 */
export class RunContext implements JobContext {
  readonly id: string;
  readonly queue: string;
  readonly attempt: number;
  readonly #run: Running;

  constructor(
    run: Running,
    readonly name: string,
    readonly maxAttempts: number,
  ) {
    this.#run = run;
    this.id = run.id;
    this.queue = run.queue.keys.queue;
    this.attempt = run.attempt;
  }

  get signal(): AbortSignal {
    return signalOf(this.#run);
  }
}

/** The job's abort signal, created on first use (already aborted if the job was aborted before). */
export function signalOf(run: Running): AbortSignal {
  if (!run.controller) {
    run.controller = new AbortController();
    if (run.abortReason) run.controller.abort(run.abortReason);
  }
  return run.controller.signal;
}

/** Aborts the run's signal with `reason` (the first reason wins), or records it for a signal made later. */
export function abort(run: Running, reason: Error): void {
  run.abortReason ??= reason;
  run.controller?.abort(reason);
}
