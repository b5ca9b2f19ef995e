/** An HTTP answer as the e2e test and the launcher read it. */
export interface JsonAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body; `undefined` for an empty body; the raw text when it is not JSON. */
  body: unknown;
}

/** Options of one request. */
export interface JsonRequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as JSON (`content-type: application/json`). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Time-out of the whole request in ms (default 10,000). */
  timeoutMs?: number;
}

/**
 * A JSON HTTP client bound to one base URL: what the e2e test, the dev launcher and the benchmark use to
 * drive the services through their HTTP APIs (and nothing else).
 *
 * @example
 *   const applets = jsonClient('http://127.0.0.1:3000');
 *   const answer = await applets.request('POST', '/admin/users', { token: adminToken, body: { name: 'ada' } });
 *   answer.status; // 201
 */
export interface JsonClient {
  url: string;
  request(method: string, path: string, options?: JsonRequestOptions): Promise<JsonAnswer>;
}

/** Makes a {@link JsonClient} for `url` (no trailing slash). Network errors and time-outs reject. */
export function jsonClient(url: string): JsonClient {
  return {
    url,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const text = await response.text();
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: response.status, headers: response.headers, body: parsed };
    },
  };
}
