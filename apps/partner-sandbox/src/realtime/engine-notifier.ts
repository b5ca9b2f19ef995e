import { HttpProblem } from '@ittd/platform';

/** One entry of a realtime notification (IFTTT Service API): a trigger identity or a user id. */
export type NotificationEntry = { trigger_identity: string } | { user_id: string };

/** The engine's answer to a notification. */
export interface EngineAnswer {
  status: number;
  /** The answer's body: parsed JSON, or its text when it is not JSON (at most 64 KiB read). */
  body: unknown;
}

const MAX_ANSWER_CHARS = 65_536;

/**
 * Sends a realtime notification as a partner does (Service API): `POST <engineUrl>/v1/notifications` with
 * `{"data": [...]}`, the partner's `IFTTT-Service-Key` and an `X-Request-ID`, and returns the engine's answer
 * whatever its status.
 *
 * @throws HttpProblem 502 when the engine cannot be reached or does not answer within `timeoutMs`.
 * @example
 *   await notifyEngine({ engineUrl: 'http://127.0.0.1:3010', serviceKey, requestId: req.id,
 *     data: [{ trigger_identity: 'ti_1' }], timeoutMs: 10_000 });
 */
export async function notifyEngine(options: {
  engineUrl: string;
  serviceKey: string;
  requestId: string;
  data: NotificationEntry[];
  timeoutMs: number;
}): Promise<EngineAnswer> {
  const url = new URL(
    'v1/notifications',
    options.engineUrl.endsWith('/') ? options.engineUrl : `${options.engineUrl}/`,
  );
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ifttt-service-key': options.serviceKey,
        'x-request-id': options.requestId,
      },
      body: JSON.stringify({ data: options.data }),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    throw new HttpProblem(502, {
      detail: `The engine at ${url.origin} did not answer the notification: ${(error as Error).message}.`,
      cause: error,
    });
  }
  const text = (await response.text()).slice(0, MAX_ANSWER_CHARS);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text is the body
  }
  return { status: response.status, body };
}
