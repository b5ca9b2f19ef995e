import { apiErrorFor } from './api-errors';

/** How to reach one of the Mesos frameworks (Marathon, Chronos, Metronome). */
export interface ApiEndpoint {
  /** Base URL, e.g. `http://marathon.mesos:8080` (a path prefix such as `/marathon` behind DC/OS is kept). */
  baseUrl: string;
  /** DC/OS authentication token, sent as `Authorization: token=<token>`; never logged. */
  token?: string;
  /** Per-request time limit; default {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

/** A single HTTP call never hangs a deploy: it is aborted after this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A successful answer: the status (200 vs 201 matters to some callers) and the parsed JSON body. */
export interface JsonResponse<T> {
  status: number;
  body: T;
}

/**
 * Sends one JSON request with Node's fetch and parses the answer; any status >= 300 throws the typed
 * error of `api-errors.ts`. The token goes only into the header, never into a message.
 *
 * @example
 * const { body } = await requestJson<Deployment[]>(endpoint, 'GET', '/v2/deployments');
 */
export async function requestJson<T>(
  endpoint: ApiEndpoint,
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (endpoint.token) headers.authorization = `token=${endpoint.token}`;
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(endpoint.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const reason =
      error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    throw new Error(`${method} ${path} on ${new URL(url).origin} failed: ${reason}`, { cause: error });
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML error page): keep the text for the error message.
  }
  if (response.status >= 300) throw apiErrorFor(method, path, response.status, parsed);
  return { status: response.status, body: parsed as T };
}
