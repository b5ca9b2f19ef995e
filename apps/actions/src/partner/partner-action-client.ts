import type { StepFields } from '@ittd/service-api';
import { z } from 'zod';
import {
  fetchFailureReason,
  OutboundUrlError,
  readLimitedBody,
  type OutboundUrlPolicy,
} from '@ittd/platform';

/** One `POST {api_base_url}/ifttt/v1/actions/{action_slug}` (IFTTT Service API "run action"). */
export interface ActionCall {
  apiBaseUrl: string;
  /** Sent as `IFTTT-Service-Key`; never logged, never part of a result. */
  serviceKey: string;
  serviceSlug: string;
  actionSlug: string;
  /** The applet's action fields with their placeholders filled (Service API `StepFields`). */
  actionFields: StepFields;
  userTimezone: string;
  /** `ifttt_source`: the applet that fired. */
  source: { id: string; url: string };
  /** Sent as `X-Request-ID`: the id of the firing, the same on every attempt. */
  requestId: string;
  timeoutMs: number;
  /** Most bytes of the answer read; a longer answer is a failed call. */
  maxAnswerBytes: number;
  /** Checked before the call (DNS can change): a refused URL is a failed call, nothing is sent. */
  urlPolicy: OutboundUrlPolicy;
  /** The job's signal: aborting it aborts the call and rethrows the abort reason. */
  signal: AbortSignal;
}

/**
 * What a partner made of an action call:
 * - `success` (HTTP 2xx): `partnerRecordId` is `data[0].id` of the `ActionRunResponse` (null, with a `note`,
 *   when the answer did not carry one: the action ran, so it is not retried);
 * - `skipped` (400 with `errors[0].status == "SKIP"`): the partner's message;
 * - `failed`: `retryable` for 5xx, 408, 429, a time-out or an unreachable partner; not for 401/403 (key
 *   rejected) or any other 4xx.
 */
export type ActionCallResult =
  | { outcome: 'success'; status: number; partnerRecordId: string | null; note: string | null }
  | { outcome: 'skipped'; status: number; message: string }
  | { outcome: 'failed'; status?: number; message: string; retryable: boolean; keyRejected: boolean };

/** HTTP statuses of a 4xx answer that a later attempt may pass. */
const RETRYABLE_CLIENT_STATUSES = new Set([408, 429]);

/** The Service API's `ActionRunResponse` as far as this service reads it. */
const actionRunResponse = z.object({
  data: z.array(z.object({ id: z.string() }).loose()).min(1),
});

/** The Service API's `ErrorResponse` as far as this service reads it. */
const errorResponse = z.object({
  errors: z.array(z.object({ message: z.string().optional(), status: z.string().optional() }).loose()).min(1),
});

/** JSON of a body text, or undefined. */
function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Asks a partner to run an action and classifies the answer (see {@link ActionCallResult}); never throws for
 * what the partner does (only the job's own abort is rethrown). The request body is the Service API's
 * `ActionRunRequest`: `{actionFields, user: {timezone}, ifttt_source: {id, url}}`, with `IFTTT-Service-Key`
 * and `X-Request-ID`. The URL is checked against the partner URL policy first (refused: `failed`, nothing
 * sent). At most `maxAnswerBytes` of the answer are read, within `timeoutMs` in all; a longer answer is
 * `failed`, not retried.
 *
 * @example
 *   const result = await callPartnerAction({ apiBaseUrl: 'https://slack.example', serviceKey, serviceSlug: 'slack',
 *     actionSlug: 'post_message', actionFields: { text: 'Rain in Berlin' }, userTimezone: 'Europe/Berlin',
 *     source: { id: '7', url: 'https://ittd.example/applets/7' }, requestId: 'req-1', timeoutMs: 10_000,
 *     maxAnswerBytes: 1_048_576, urlPolicy, signal });
 *   // { outcome: 'success', status: 200, partnerRecordId: 'msg_9', note: null }
 */
export async function callPartnerAction(call: ActionCall): Promise<ActionCallResult> {
  const url = `${call.apiBaseUrl.replace(/\/+$/, '')}/ifttt/v1/actions/${encodeURIComponent(call.actionSlug)}`;
  const what = `partner ${call.serviceSlug} (action ${call.actionSlug})`;
  try {
    await call.urlPolicy.check(call.apiBaseUrl);
  } catch (error) {
    if (!(error instanceof OutboundUrlError)) throw error;
    // A name that does not resolve may later; a URL that breaks the rules stays refused until it changes.
    return failed(`${what} was not called: its api_base_url ${error.message}`, error.kind === 'unresolvable');
  }
  const timeout = AbortSignal.timeout(call.timeoutMs);
  let status: number;
  let bodyText: string | undefined;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'ifttt-service-key': call.serviceKey,
        'x-request-id': call.requestId,
      },
      body: JSON.stringify({
        actionFields: call.actionFields,
        user: { timezone: call.userTimezone },
        ifttt_source: call.source,
      }),
      signal: AbortSignal.any([call.signal, timeout]),
      redirect: 'error',
    });
    status = response.status;
    bodyText = await readLimitedBody(response, call.maxAnswerBytes);
  } catch (error) {
    if (call.signal.aborted) throw call.signal.reason;
    if (timeout.aborted) {
      return failed(`${what} did not answer within ${call.timeoutMs} ms`, true);
    }
    const reason = fetchFailureReason(error);
    return failed(`${what} could not be reached: ${reason}`, true);
  }

  if (bodyText === undefined) {
    // Not retried: a 2xx this large may mean the action ran, and a retry could run it twice.
    return {
      ...failed(
        `${what} answered HTTP ${status} with a body over ${call.maxAnswerBytes} bytes (PARTNER_MAX_ANSWER_BYTES); not read`,
        false,
      ),
      status,
    };
  }
  if (status >= 200 && status <= 299) {
    const parsed = actionRunResponse.safeParse(parseJson(bodyText));
    if (parsed.success)
      return { outcome: 'success', status, partnerRecordId: parsed.data.data[0].id, note: null };
    const note = `${what} answered HTTP ${status} without data[0].id; no record id kept`;
    return { outcome: 'success', status, partnerRecordId: null, note };
  }

  const errors = errorResponse.safeParse(parseJson(bodyText));
  const first = errors.success ? errors.data.errors[0] : undefined;
  if (status === 400 && first?.status === 'SKIP') {
    return { outcome: 'skipped', status, message: first.message ?? `${what} skipped the action` };
  }
  const detail = first?.message === undefined ? '' : `: ${first.message}`;
  if (status === 401 || status === 403) {
    return {
      outcome: 'failed',
      status,
      message: `${what} rejected the service key (HTTP ${status})${detail}; retries cannot succeed until the key is updated`,
      retryable: false,
      keyRejected: true,
    };
  }
  const retryable = status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status);
  return { ...failed(`${what} answered HTTP ${status}${detail}`, retryable), status };
}

function failed(message: string, retryable: boolean): ActionCallResult {
  return { outcome: 'failed', message, retryable, keyRejected: false };
}
