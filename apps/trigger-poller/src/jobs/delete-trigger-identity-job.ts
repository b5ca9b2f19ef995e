import {
  defineJob,
  text,
  type JobDefinition,
  type OutboundUrlPolicy,
  type SecretKeyring,
} from '@ittd/platform';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { TriggerPollerDatabase } from '../data/database';
import {
  findIdentityDeletion,
  finishIdentityDeletion,
  recordDeletionFailure,
} from '../data/identity-deletion-repository';
import { findPartnerEndpoint } from '../data/partner-repository';
import { findSubscription } from '../data/subscription-repository';
import type { PartnerConcurrency } from '../partner/partner-concurrency';
import { PartnerCallError } from '../partner/partner-trigger-client';
import { deleteTriggerIdentity } from '../partner/partner-trigger-identity-client';

/** The queue of partner DELETEs of trigger identities. */
export const IDENTITY_DELETE_QUEUE = 'trigger-identity-deletes';

/** Payload of a `delete-trigger-identity` job: what it sends is read from `trigger_identity_deletions`. */
export const deleteTriggerIdentityPayload = z.strictObject({ trigger_identity: text().min(1).max(200) });

/** A `delete-trigger-identity` payload. */
export type DeleteTriggerIdentityPayload = z.output<typeof deleteTriggerIdentityPayload>;

/** What the delete job needs. */
export interface IdentityDeleteDependencies {
  db: TriggerPollerDatabase;
  logger: Logger;
  timeoutMs: number;
  partnerConcurrency: PartnerConcurrency;
  /** Opens the stored partner keys (SECRETS_KEYS). */
  keyring: SecretKeyring;
  /** Checks the partner's URL before each call. */
  urlPolicy: OutboundUrlPolicy;
  /** First retry delay after a failed DELETE (IDENTITY_DELETE_RETRY_BASE_MS); doubles per attempt. */
  retryBaseMs: number;
  /** Longest retry delay (6 h). */
  retryMaxMs: number;
  /** Attempts before giving up (IDENTITY_DELETE_MAX_ATTEMPTS). */
  maxAttempts: number;
  /** Puts the job back after `delayMs` (a retry, or a partner at its concurrency limit). */
  retry: (payload: DeleteTriggerIdentityPayload, delayMs: number) => Promise<void>;
}

/** What one run did. */
export type IdentityDeleteOutcome =
  'nothing-pending' | 'in-use-again' | 'deleted' | 'unknown-to-partner' | 'retry' | 'deferred' | 'gave-up';

/**
 * Sends the pending partner DELETE of one trigger identity (`trigger_identity_deletions`, recorded in the
 * transaction that removed its subscription) with the partner's current key and `X-Request-ID` (the request
 * id of the change that removed it, else `delete-<job id>`). Done (row removed) on a 2xx or a 404; nothing to
 * do when no DELETE is pending or the identity is subscribed again. A 401/403 gives up at once (logged at
 * error; a new partner key makes it pending again); another failure is retried by putting the job back with
 * a backoff of `retryBaseMs * 2^(attempts-1)` (up to `retryMaxMs`, 0.8x to 1x jitter) until `maxAttempts`,
 * then gives up. A partner unknown here counts as a failed attempt (its partner-service.changed may come).
 * Throws only for failures of our side (the queue then retries the job).
 *
 * @example
 *   await sendIdentityDelete(deps, { trigger_identity: '9c' }, { id: '0193…', signal });
 */
export async function sendIdentityDelete(
  deps: IdentityDeleteDependencies,
  payload: DeleteTriggerIdentityPayload,
  job: { id: string; signal: AbortSignal },
): Promise<IdentityDeleteOutcome> {
  const triggerIdentity = payload.trigger_identity;
  const pending = await findIdentityDeletion(deps.db, triggerIdentity);
  if (pending === undefined || pending.gave_up_at !== null) return 'nothing-pending';
  if ((await findSubscription(deps.db, triggerIdentity)) !== undefined) {
    await finishIdentityDeletion(deps.db, triggerIdentity);
    return 'in-use-again';
  }
  const requestId = pending.request_id ?? `delete-${job.id}`;
  const log = { trigger_identity: triggerIdentity, service: pending.service_slug, reqId: requestId };
  const fail = async (message: string, permanent: boolean): Promise<IdentityDeleteOutcome> => {
    const attempts = pending.attempts + 1;
    if (permanent || attempts >= deps.maxAttempts) {
      await recordDeletionFailure(deps.db, triggerIdentity, message, { giveUp: true });
      deps.logger.error({ ...log, attempts, err: message }, 'partner DELETE of a trigger identity given up');
      return 'gave-up';
    }
    const delay =
      Math.min(deps.retryMaxMs, deps.retryBaseMs * 2 ** (attempts - 1)) * (0.8 + 0.2 * Math.random());
    await recordDeletionFailure(deps.db, triggerIdentity, message, { retryInMs: delay });
    await deps.retry(payload, Math.round(delay));
    deps.logger.warn(
      { ...log, attempts, err: message },
      'partner DELETE of a trigger identity failed: retried',
    );
    return 'retry';
  };
  const partner = await findPartnerEndpoint(deps.db, pending.service_slug, deps.keyring);
  if (partner === undefined) return fail(`partner ${pending.service_slug} is not known`, false);
  if (!deps.partnerConcurrency.tryAcquire(partner.slug)) {
    await deps.retry(payload, Math.round(1000 * (0.5 + Math.random())));
    return 'deferred';
  }
  try {
    const result = await deleteTriggerIdentity({
      apiBaseUrl: partner.api_base_url,
      serviceKey: partner.service_key,
      serviceSlug: partner.slug,
      triggerSlug: pending.trigger_slug,
      triggerIdentity,
      timeoutMs: deps.timeoutMs,
      urlPolicy: deps.urlPolicy,
      signal: job.signal,
      requestId,
    });
    await finishIdentityDeletion(deps.db, triggerIdentity);
    deps.logger.info({ ...log, result }, 'partner told the trigger identity is gone');
    return result === 'deleted' ? 'deleted' : 'unknown-to-partner';
  } catch (error) {
    if (error instanceof PartnerCallError) return fail(error.message, error.serviceKeyRejected);
    throw error;
  } finally {
    deps.partnerConcurrency.release(partner.slug);
  }
}

/**
 * The `delete-trigger-identity` job ({@link sendIdentityDelete}) on {@link IDENTITY_DELETE_QUEUE}: retries of
 * partner failures go through the pending row and a delayed re-enqueue; the queue's own 5 attempts are for
 * failures of our side.
 *
 * @example
 *   await queue.enqueue(defineDeleteTriggerIdentityJob(deps), { trigger_identity: '9c' }, { uniqueKey: '9c' });
 */
export function defineDeleteTriggerIdentityJob(
  deps: IdentityDeleteDependencies,
): JobDefinition<typeof deleteTriggerIdentityPayload> {
  return defineJob(
    'delete-trigger-identity',
    deleteTriggerIdentityPayload,
    async (payload, job) => {
      const outcome = await sendIdentityDelete(deps, payload, job);
      deps.logger.debug(
        { trigger_identity: payload.trigger_identity, jobId: job.id, outcome },
        'identity delete ran',
      );
    },
    { queue: IDENTITY_DELETE_QUEUE, maxAttempts: 5, backoff: { baseMs: 2000, maxMs: 60_000 } },
  );
}
