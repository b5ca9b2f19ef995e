import { z } from 'zod';
import type { TriggerFields } from '../data/database';
import type { ReceivedEvent } from '../data/event-repository';

/** Statuses by which a partner rejects our service key: no retry can pass until the key is updated. */
const KEY_REJECTED_STATUSES: ReadonlySet<number> = new Set([401, 403]);

/**
 * A failed call to a partner's trigger endpoint, with the HTTP status when there was one. The message says
 * what happened and what helps; it never holds the service key or the response body.
 */
export class PartnerCallError extends Error {
  override readonly name = 'PartnerCallError';

  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }

  /**
   * True when the partner rejected the service key (HTTP 401 or 403): retrying cannot help until the
   * subscription's `service_key` is updated, unlike a time-out or a 5xx.
   *
   * @example
   *   if (error instanceof PartnerCallError && error.serviceKeyRejected) throw new PermanentJobError(error.message);
   */
  get serviceKeyRejected(): boolean {
    return this.status !== undefined && KEY_REJECTED_STATUSES.has(this.status);
  }
}

/** One `POST {api_base_url}/ifttt/v1/triggers/{trigger_slug}` (IFTTT Service API "check trigger"). */
export interface TriggerCheck {
  apiBaseUrl: string;
  serviceKey: string;
  serviceSlug: string;
  triggerSlug: string;
  triggerIdentity: string;
  triggerFields: TriggerFields;
  userTimezone: string;
  /** How many of its newest events the partner should answer. */
  limit: number;
  timeoutMs: number;
  /** The caller's signal (the job's): aborting it aborts the call and rethrows the abort reason. */
  signal: AbortSignal;
  /** Sent as `X-Request-ID`, so the partner's logs can be matched with ours. */
  requestId: string;
}

/** A trigger event: `meta.id` and `meta.timestamp` (Unix seconds); the other keys are its ingredients. */
const triggerEvent = z.looseObject({
  meta: z.looseObject({
    id: z.string().min(1).max(255),
    timestamp: z.number().int().nonnegative(),
  }),
});

/** `TriggerCheckResponse` of the Service API. */
const triggerCheckResponse = z.object({ data: z.array(triggerEvent) });

/**
 * Asks a partner for a trigger's newest events (newest first, seen or not) and returns them parsed.
 * Throws {@link PartnerCallError} when the partner is unreachable, slower than `timeoutMs`, answers a
 * non-2xx status (401/403: the service key was rejected) or a body that is not a trigger response.
 *
 * @example
 *   const events = await fetchTriggerEvents({ apiBaseUrl: 'https://weather.example.com', serviceKey, serviceSlug: 'weather',
 *     triggerSlug: 'rain_tomorrow', triggerIdentity: 'ti_1', triggerFields: { city: 'Berlin' }, userTimezone: 'UTC',
 *     limit: 50, timeoutMs: 10_000, signal, requestId: 'poll-42-1' });
 */
export async function fetchTriggerEvents(check: TriggerCheck): Promise<ReceivedEvent[]> {
  const url = `${check.apiBaseUrl.replace(/\/+$/, '')}/ifttt/v1/triggers/${encodeURIComponent(check.triggerSlug)}`;
  const what = `partner ${check.serviceSlug} (trigger ${check.triggerSlug})`;
  const timeout = AbortSignal.timeout(check.timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'ifttt-service-key': check.serviceKey,
        'x-request-id': check.requestId,
      },
      body: JSON.stringify({
        trigger_identity: check.triggerIdentity,
        triggerFields: check.triggerFields,
        limit: check.limit,
        user: { timezone: check.userTimezone },
      }),
      signal: AbortSignal.any([check.signal, timeout]),
      redirect: 'error',
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (check.signal.aborted) throw check.signal.reason;
    if (timeout.aborted) throw new PartnerCallError(`${what} did not answer within ${check.timeoutMs} ms`);
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw new PartnerCallError(`${what} could not be reached: ${reason}`);
  }

  if (KEY_REJECTED_STATUSES.has(status)) {
    throw new PartnerCallError(
      `${what} rejected the service key (HTTP ${status}); retries cannot succeed until the subscription's service_key is updated`,
      status,
    );
  }
  if (status < 200 || status > 299) throw new PartnerCallError(`${what} answered HTTP ${status}`, status);

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PartnerCallError(`${what} answered HTTP ${status} with a body that is not JSON`, status);
  }
  const parsed = triggerCheckResponse.safeParse(body);
  if (!parsed.success) {
    throw new PartnerCallError(
      `${what} answered an invalid trigger response: ${z.prettifyError(parsed.error)}`,
      status,
    );
  }
  return parsed.data.data.slice(0, check.limit).map((event) => ({
    eventId: event.meta.id,
    timestamp: new Date(event.meta.timestamp * 1000),
    payload: event,
  }));
}
