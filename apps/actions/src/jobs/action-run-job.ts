import { actionRunFinished, type ActionRunFinishedEvent } from '@ittd/engine-events';
import {
  defineJob,
  PermanentJobError,
  publish,
  text,
  type EventMetrics,
  type JobContext,
  type JobDefinition,
  type OutboundUrlPolicy,
  type SecretKeyring,
} from '@ittd/platform';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { z } from 'zod';
import {
  claimRun,
  findRun,
  finishRun,
  releaseRun,
  type ActionRunRow,
  type RunEnd,
} from '../data/action-run-repository';
import type { ActionsDatabase } from '../data/database';
import { findPartnerEndpoint } from '../data/partner-repository';
import { callPartnerAction, type ActionCallResult } from '../partner/partner-action-client';
import { fillActionFields } from './fill-action-fields';
import type { PartnerRateLimit } from './partner-rate-limit';

/** The queue of action runs (one for every partner; the per-partner limit is {@link PartnerRateLimit}). */
export const ACTION_RUN_QUEUE = 'action-runs';

/**
 * Payload of an `action-run` job: the run and the request id of the firing (sent as `X-Request-ID`, on every
 * log line). Strict, so nothing else rides along.
 */
export const actionRunPayload = z.strictObject({
  run_id: z.uuid(),
  request_id: text().min(1).max(200),
});

/** An `action-run` job's payload. */
export type ActionRunPayload = z.output<typeof actionRunPayload>;

/** How long a claim outlives the partner call's time-out, so a slow database write after it still fits. */
const CLAIM_MARGIN_MS = 30_000;

/** Job attempts beyond ACTION_MAX_ATTEMPTS, for lease expiries and database hiccups that are no partner call. */
const JOB_ATTEMPTS_SLACK = 3;

/** Longest texts `action-run.finished` takes. */
const MAX_MESSAGE = 2000;
const MAX_PARTNER_RECORD_ID = 500;

/** What the job needs besides its payload. */
export interface ActionRunDependencies {
  db: ActionsDatabase;
  logger: Logger;
  rateLimit: PartnerRateLimit;
  /** Enqueues the run again, `delayMs` from now (unique key: the run id). */
  requeue(payload: ActionRunPayload, delayMs: number): Promise<void>;
  eventMetrics?: EventMetrics;
  /** `actions_rate_limited_total{service}`. */
  rateLimited?: Counter<'service'>;
  /** `action_runs_finished_total{service,status}`. */
  finished?: Counter<'service' | 'status'>;
  timeoutMs: number;
  maxAnswerBytes: number;
  /** Opens the stored partner keys (SECRETS_KEYS). */
  keyring: SecretKeyring;
  /** Checks the partner's URL before each call. */
  urlPolicy: OutboundUrlPolicy;
  /** Partner calls of one run before a retryable failure is final. */
  maxAttempts: number;
  /** `ifttt_source.url` is `<appletUrlBase>/<applet id>`. */
  appletUrlBase: string;
}

/** What one job run did with its action run. */
export type ActionRunStep =
  'missing' | 'already-finished' | 'rate-limited' | 'claimed-elsewhere' | 'success' | 'skipped' | 'failed';

/** Text for `action-run.finished`: well-formed, without NUL, at most `max` characters. */
function eventText(value: string, max: number): string {
  return value.replaceAll('\0', '').slice(0, max).toWellFormed();
}

/** The `action-run.finished` event of an ended run. */
export function finishedEvent(run: ActionRunRow): ActionRunFinishedEvent {
  return {
    run_id: run.id,
    applet_id: run.applet_id,
    user_id: run.user_id,
    trigger_identity: run.trigger_identity,
    trigger_event_id: run.trigger_event_id,
    action: { service: run.action_service, slug: run.action_slug },
    status: run.status === 'pending' ? 'failed' : run.status,
    partner_record_id: run.partner_record_id,
    message: run.message,
    attempts: run.attempts,
    duration_ms: run.duration_ms ?? 0,
    started_at: (run.started_at ?? run.created_at).toISOString(),
    finished_at: (run.finished_at ?? new Date()).toISOString(),
  };
}

/**
 * Records the end of a run and publishes `action-run.finished` in the same transaction, so the event exists
 * if and only if the end was recorded, and once (a run that had ended already publishes nothing).
 */
async function endRun(deps: ActionRunDependencies, run: ActionRunRow, end: RunEnd): Promise<boolean> {
  const ended = await deps.db.transaction().execute(async (trx) => {
    const row = await finishRun(trx, run.id, end);
    if (row) {
      await publish(trx, actionRunFinished, finishedEvent(row), {
        requestId: row.request_id,
        metrics: deps.eventMetrics,
      });
    }
    return row;
  });
  if (ended) deps.finished?.inc({ service: run.action_service, status: end.status });
  return ended !== undefined;
}

/** The run's end for a partner's answer, or undefined when the call should be retried. */
function endFor(result: ActionCallResult, final: boolean, attempts: number): RunEnd | undefined {
  switch (result.outcome) {
    case 'success':
      return {
        status: 'success',
        partner_record_id:
          result.partnerRecordId === null ? null : eventText(result.partnerRecordId, MAX_PARTNER_RECORD_ID),
        message: result.note === null ? null : eventText(result.note, MAX_MESSAGE),
      };
    case 'skipped':
      return { status: 'skipped', partner_record_id: null, message: eventText(result.message, MAX_MESSAGE) };
    case 'failed':
      if (result.retryable && !final) return undefined;
      return {
        status: 'failed',
        partner_record_id: null,
        message: eventText(
          result.retryable ? `${result.message} (gave up after ${attempts} attempts)` : result.message,
          MAX_MESSAGE,
        ),
      };
  }
}

/**
 * Runs one attempt of an action run:
 * 1. a run that is gone or has ended is left alone (a duplicate job, or one enqueued again by a redelivered
 *    event);
 * 2. the partner's rate limit is taken; over it, the run is enqueued again for the next window and this job
 *    ends (the run waits, it is never dropped or failed);
 * 3. the run is claimed (attempt counted); if another job holds it, this one is enqueued again for when that
 *    claim expires;
 * 4. the action fields are filled from the event's ingredients and the partner is called with the
 *    firing's request id as `X-Request-ID`;
 * 5. success, SKIP and final failures end the run (row + `action-run.finished`, one transaction); a final
 *    failure then throws `PermanentJobError` so the job lands in the queue's dead letters for operators; a
 *    retryable failure (5xx, 408, 429, time-out, unreachable, unknown partner) gives the claim back and throws,
 *    so the queue retries with backoff, until ACTION_MAX_ATTEMPTS partner calls (or the job's last attempt).
 * Every log line carries `reqId` (the request id) and `run_id`.
 *
 * @example
 *   const step = await runAction(deps, { run_id, request_id: 'req-1' }, jobContext); // 'success'
 */
export async function runAction(
  deps: ActionRunDependencies,
  payload: ActionRunPayload,
  job: Pick<JobContext, 'attempt' | 'maxAttempts' | 'signal'>,
): Promise<ActionRunStep> {
  const log = deps.logger.child({ reqId: payload.request_id, run_id: payload.run_id });
  const run = await findRun(deps.db, payload.run_id);
  if (!run) {
    log.warn('action run not found; nothing to do');
    return 'missing';
  }
  if (run.finished_at !== null) {
    log.debug({ status: run.status }, 'action run already finished');
    return 'already-finished';
  }
  const service = run.action_service;
  const decision = await deps.rateLimit.take(service);
  if (!decision.allowed) {
    await deps.requeue(payload, decision.waitMs);
    deps.rateLimited?.inc({ service });
    log.info({ service, wait_ms: decision.waitMs }, 'partner rate limit reached; the run waits');
    return 'rate-limited';
  }
  const claimed = await claimRun(deps.db, run.id, deps.timeoutMs + CLAIM_MARGIN_MS);
  if (!claimed) {
    const current = await findRun(deps.db, run.id);
    if (!current || current.finished_at !== null) return 'already-finished';
    const claimEnds = current.claimed_until?.getTime() ?? Date.now();
    await deps.requeue(payload, Math.max(1000, claimEnds - Date.now() + 1000));
    log.info('another job is calling the partner for this run; this one waits for its claim to end');
    return 'claimed-elsewhere';
  }

  const final = claimed.attempts >= deps.maxAttempts || job.attempt >= job.maxAttempts;
  let result: ActionCallResult;
  try {
    const partner = await findPartnerEndpoint(deps.db, service, deps.keyring);
    if (!partner) {
      result = {
        outcome: 'failed',
        message: `partner service ${service} is not known yet (no partner-service.changed received)`,
        retryable: true,
        keyRejected: false,
      };
    } else {
      const filled = fillActionFields(claimed.action_fields, claimed.ingredients);
      if (filled.missing.length > 0) {
        log.warn(
          { missing: filled.missing },
          'ingredients missing from the trigger event; filled as empty text',
        );
      }
      result = await callPartnerAction({
        apiBaseUrl: partner.api_base_url,
        serviceKey: partner.service_key,
        serviceSlug: service,
        actionSlug: claimed.action_slug,
        actionFields: filled.fields,
        userTimezone: claimed.user_timezone,
        source: {
          id: claimed.applet_id,
          url: `${deps.appletUrlBase.replace(/\/+$/, '')}/${encodeURIComponent(claimed.applet_id)}`,
        },
        requestId: payload.request_id,
        timeoutMs: deps.timeoutMs,
        maxAnswerBytes: deps.maxAnswerBytes,
        urlPolicy: deps.urlPolicy,
        signal: job.signal,
      });
    }
  } catch (error) {
    // Aborted (shutdown, lost lease) or the database failed: give the claim back so a retry need not wait.
    await releaseRun(deps.db, run.id, 'the attempt was interrupted').catch(() => undefined);
    throw error;
  }

  const end = endFor(result, final, claimed.attempts);
  const callLog = {
    service,
    action: claimed.action_slug,
    attempt: claimed.attempts,
    status: 'status' in result ? result.status : undefined,
  };
  if (end === undefined) {
    const message = result.outcome === 'failed' ? result.message : 'retry';
    await releaseRun(deps.db, run.id, eventText(message, MAX_MESSAGE));
    log.warn({ ...callLog, reason: message }, 'action call failed; retried later');
    throw new Error(message);
  }
  const ended = await endRun(deps, claimed, end);
  log.info(
    { ...callLog, outcome: end.status, partner_record_id: end.partner_record_id, message: end.message },
    ended ? 'action run finished' : 'action run had finished already',
  );
  if (end.status === 'failed') throw new PermanentJobError(end.message ?? 'action run failed');
  return end.status;
}

/**
 * The `action-run` job: {@link runAction} on {@link ACTION_RUN_QUEUE}, exponential backoff from
 * `retryBaseMs` (with jitter) up to 10 minutes, ACTION_MAX_ATTEMPTS + 3 job attempts (the run itself counts
 * partner calls and ends at ACTION_MAX_ATTEMPTS; the slack covers expired leases).
 *
 * @example
 *   const job = defineActionRunJob(deps, 5000);
 *   await queue.enqueue(job, { run_id, request_id }, { uniqueKey: run_id });
 */
export function defineActionRunJob(
  deps: ActionRunDependencies,
  retryBaseMs: number,
): JobDefinition<typeof actionRunPayload> {
  return defineJob(
    'action-run',
    actionRunPayload,
    async (payload, job) => {
      await runAction(deps, payload, job);
    },
    {
      queue: ACTION_RUN_QUEUE,
      maxAttempts: deps.maxAttempts + JOB_ATTEMPTS_SLACK,
      backoff: { baseMs: retryBaseMs, maxMs: Math.max(retryBaseMs, 600_000) },
    },
  );
}
