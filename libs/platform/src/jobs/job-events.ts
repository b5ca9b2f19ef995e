import { EventEmitter } from 'node:events';

/** Fields common to every per-job event. */
export interface JobEventBase {
  queue: string;
  id: string;
  name: string;
}

/**
 * Events of a queue and its workers, typed. Emitting costs nothing when nobody listens, so tests, logs and
 * custom metrics can subscribe without slowing the hot path.
 */
export interface JobEventMap {
  enqueued: [JobEventBase & { created: boolean }];
  started: [JobEventBase & { attempt: number; waitMs: number }];
  completed: [JobEventBase & { attempt: number; durationMs: number }];
  failed: [JobEventBase & { attempt: number; error: string; retryInMs: number | null }];
  dead: [JobEventBase & { attempt: number; error: string }];
  /** Another run's lease expired and the job went back to ready (or dead), seen by the worker that reclaimed it. */
  leaseExpired: [{ queue: string; name: string; dead: boolean }];
  /** In-flight jobs handed back to the queue on shutdown. */
  released: [{ queue: string; count: number }];
  /** A Redis or internal error the worker recovered from by retrying. */
  workerError: [{ queue: string; error: Error }];
}

/**
 * The typed emitter shared by a queue and the workers it creates.
 *
 * @example
 * queue.events.on('dead', ({ queue, id, error }) => logger.error({ queue, id, error }, 'job dead-lettered'));
 */
export class JobEvents extends EventEmitter<JobEventMap> {}
