import {
  fetchFailureReason,
  OutboundUrlError,
  readLimitedBody,
  text,
  wellFormedJson,
  type InvalidParam,
  type OutboundUrlPolicy,
} from '@ittd/platform';
import { z } from 'zod';
import type { TriggerFields } from '../data/database';
import type { ReceivedEvent } from '../data/event-repository';

/** Statuses by which a partner rejects our service key: no retry can pass until the key is updated. */
export const KEY_REJECTED_STATUSES: ReadonlySet<number> = new Set([401, 403]);

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
   * partner's `service_key` is updated, unlike a time-out or a 5xx.
   *
   * @example
   *   if (error instanceof PartnerCallError && error.serviceKeyRejected) throw new PermanentJobError(error.message);
   */
  get serviceKeyRejected(): boolean {
    return this.status !== undefined && KEY_REJECTED_STATUSES.has(this.status);
  }
}

/**
 * Checks a partner's base URL against the partner URL policy before a call: a refused or unresolvable URL
 * is a {@link PartnerCallError} (the poll fails and backs off; nothing is sent).
 *
 * @example
 *   await checkPartnerUrl(urlPolicy, 'https://weather.example', 'partner weather (trigger rain)');
 */
export async function checkPartnerUrl(
  policy: OutboundUrlPolicy,
  apiBaseUrl: string,
  what: string,
): Promise<void> {
  try {
    await policy.check(apiBaseUrl);
  } catch (error) {
    if (error instanceof OutboundUrlError) {
      throw new PartnerCallError(`${what} was not called: its api_base_url ${error.message}`);
    }
    throw error;
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
  /** Most bytes of the answer's body read; a longer answer is a {@link PartnerCallError} (nothing stored). */
  maxAnswerBytes: number;
  /** Checked before the call (DNS can change since registration); a refused URL is a {@link PartnerCallError}. */
  urlPolicy: OutboundUrlPolicy;
  /** The caller's signal (the job's): aborting it aborts the call and rethrows the abort reason. */
  signal: AbortSignal;
  /** Sent as `X-Request-ID`, so the partner's logs can be matched with ours. */
  requestId: string;
}

/** The latest instant a JS `Date` holds (and Postgres `timestamptz` stores), in Unix seconds. */
const MAX_UNIX_SECONDS = 8_640_000_000_000;

/** A partner's event id (`meta.id`), stored in `text`. */
const eventId = text().min(1).max(255);

/**
 * A trigger event: `meta.id` and `meta.timestamp` (Unix seconds); the other keys are its ingredients. It
 * follows the platform's JSON rule (`wellFormedJson`: every string and key well-formed without NUL, at most
 * 64 levels of objects and arrays), since the event is stored in `jsonb` as it came.
 */
const triggerEvent = wellFormedJson.pipe(
  z.looseObject({
    meta: z.looseObject({
      id: eventId,
      timestamp: z.number().int().nonnegative().max(MAX_UNIX_SECONDS),
    }),
  }),
);

/** `TriggerCheckResponse` of the Service API; each event is checked on its own (see {@link triggerEvent}). */
const triggerCheckResponse = z.object({ data: z.array(z.unknown()) });

/**
 * An event of a partner's answer that cannot be stored: its position in `data`, its `meta.id` when that is
 * a usable string, and what is wrong (`name` is the dotted path inside the event, `(event)` for the whole).
 */
export interface RefusedEvent {
  index: number;
  eventId?: string;
  errors: InvalidParam[];
}

/** What a trigger check answered: the events to record, and the ones refused (with why). */
export interface TriggerCheckResult {
  events: ReceivedEvent[];
  refused: RefusedEvent[];
}

/** The `meta.id` of a raw event when it is a string that may be logged and stored; else undefined. */
function usableEventId(raw: unknown): string | undefined {
  const parsed = z.object({ meta: z.object({ id: eventId }) }).safeParse(raw);
  return parsed.success ? parsed.data.meta.id : undefined;
}

/**
 * Asks a partner for a trigger's newest events (newest first, seen or not) and returns them parsed, the
 * event as received kept whole as `payload` (no key dropped, `__proto__` included). An event that cannot be
 * stored (no `meta.id`/`meta.timestamp`, a NUL or a lone surrogate in any string or key, objects and arrays
 * nested more than 64 levels deep, a time past what a `Date` holds) is refused on its own, with the reason,
 * and the others are kept: one bad event must neither fail the poll nor block the events after it on every
 * retry.
 * Throws {@link PartnerCallError} when the URL breaks the partner URL policy (checked first), the partner is unreachable, slower than `timeoutMs`, answers a
 * non-2xx status (401/403: the service key was rejected), a body over `maxAnswerBytes` or a body that is not
 * a trigger response.
 *
 * @example
 *   const { events, refused } = await fetchTriggerEvents({ apiBaseUrl: 'https://weather.example.com', serviceKey, serviceSlug: 'weather',
 *     triggerSlug: 'rain_tomorrow', triggerIdentity: 'ti_1', triggerFields: { city: 'Berlin' }, userTimezone: 'UTC',
 *     limit: 50, timeoutMs: 10_000, maxAnswerBytes: 4_194_304, urlPolicy, signal, requestId: 'poll-42-1' });
 */
export async function fetchTriggerEvents(check: TriggerCheck): Promise<TriggerCheckResult> {
  const url = `${check.apiBaseUrl.replace(/\/+$/, '')}/ifttt/v1/triggers/${encodeURIComponent(check.triggerSlug)}`;
  const what = `partner ${check.serviceSlug} (trigger ${check.triggerSlug})`;
  await checkPartnerUrl(check.urlPolicy, check.apiBaseUrl, what);
  const timeout = AbortSignal.timeout(check.timeoutMs);
  let status: number;
  let bodyText: string | undefined;
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
    bodyText = await readLimitedBody(response, check.maxAnswerBytes);
  } catch (error) {
    if (check.signal.aborted) throw check.signal.reason;
    if (timeout.aborted) throw new PartnerCallError(`${what} did not answer within ${check.timeoutMs} ms`);
    const reason = fetchFailureReason(error);
    throw new PartnerCallError(`${what} could not be reached: ${reason}`);
  }

  if (KEY_REJECTED_STATUSES.has(status)) {
    throw new PartnerCallError(
      `${what} rejected the service key (HTTP ${status}); retries cannot succeed until the partner's service_key is updated`,
      status,
    );
  }
  if (status < 200 || status > 299) throw new PartnerCallError(`${what} answered HTTP ${status}`, status);
  if (bodyText === undefined) {
    throw new PartnerCallError(
      `${what} answered HTTP ${status} with a body over ${check.maxAnswerBytes} bytes (PARTNER_MAX_ANSWER_BYTES)`,
      status,
    );
  }

  let body: unknown;
  try {
    body = JSON.parse(bodyText);
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
  const result: TriggerCheckResult = { events: [], refused: [] };
  parsed.data.data.slice(0, check.limit).forEach((raw, index) => {
    const event = triggerEvent.safeParse(raw);
    if (event.success) {
      result.events.push({
        eventId: event.data.meta.id,
        timestamp: new Date(event.data.meta.timestamp * 1000),
        payload: raw as Record<string, unknown>,
      });
      return;
    }
    const errors = event.error.issues.map((issue) => ({
      name: issue.path.map(String).join('.') || '(event)',
      reason: issue.message,
    }));
    const eventId = usableEventId(raw);
    result.refused.push(eventId === undefined ? { index, errors } : { index, eventId, errors });
  });
  return result;
}
