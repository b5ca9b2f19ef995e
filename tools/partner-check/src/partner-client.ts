import { randomUUID } from 'node:crypto';
import type { ServiceApiValidators } from '@ittd/service-api/testing';

/** A check that did not pass; its message is the reason printed after the check's name. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

/** The credentials of one call. */
export type Credentials =
  | { kind: 'key' }
  | { kind: 'bad-key' }
  | { kind: 'none' }
  | { kind: 'user'; token: string }
  | { kind: 'bad-user' };

/** An answer of the partner: status and parsed JSON body (`undefined` when empty, the text when not JSON). */
export interface PartnerAnswer {
  status: number;
  body: unknown;
}

/** One Service API call: path under the partner's base URL, method, body and the schema its body must meet. */
export interface PartnerCall {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  /** The Service API schema the request body must meet (checked before sending: a bad sample fails here). */
  requestSchema?: string;
  credentials: Credentials;
}

/** What a {@link PartnerClient} needs. */
export interface PartnerClientOptions {
  baseUrl: string;
  serviceKey: string;
  timeoutMs: number;
  validators: ServiceApiValidators;
}

/** A service key no partner has. */
const BAD_KEY = 'partner-check-invalid-service-key-0000';

const shorten = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Calls a partner as IFTTT does (`IFTTT-Service-Key`, `Authorization: Bearer` for user calls, a fresh
 * `X-Request-ID`, JSON) and checks both sides against the Service API's OpenAPI file.
 *
 * @example
 *   const client = new PartnerClient({ baseUrl, serviceKey, timeoutMs: 10_000, validators: serviceApiValidators() });
 *   const answer = await client.call({ method: 'GET', path: '/ifttt/v1/status', credentials: { kind: 'key' } });
 *   client.expectAnswer(answer, 200);
 */
export class PartnerClient {
  constructor(private readonly options: PartnerClientOptions) {}

  /**
   * Sends one call and returns the answer whatever its status.
   *
   * @throws CheckFailure when the request body breaks `requestSchema`, or the partner cannot be reached or
   *   does not answer within the time-out.
   */
  async call(call: PartnerCall): Promise<PartnerAnswer> {
    if (call.requestSchema !== undefined) this.validate('request', call.requestSchema, call.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-request-id': `partner-check-${randomUUID()}`,
    };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    const { credentials } = call;
    if (credentials.kind === 'key' || credentials.kind === 'user')
      headers['ifttt-service-key'] = this.options.serviceKey;
    if (credentials.kind === 'bad-key') headers['ifttt-service-key'] = BAD_KEY;
    if (credentials.kind === 'user') headers.authorization = `Bearer ${credentials.token}`;
    if (credentials.kind === 'bad-user') headers.authorization = 'Bearer partner-check-invalid-token';
    const url = new URL(
      call.path.replace(/^\//, ''),
      this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`,
    );
    let response: Response;
    try {
      response = await fetch(url, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const failure = error as Error & { cause?: { code?: string; message?: string } };
      const reason =
        failure.name === 'TimeoutError'
          ? `no answer within ${this.options.timeoutMs} ms`
          : `no answer (${failure.cause?.code ?? failure.cause?.message ?? failure.message})`;
      throw new CheckFailure(`${call.method} ${url.pathname}: ${reason}`);
    }
    const text = await response.text();
    let body: unknown = text === '' ? undefined : text;
    try {
      if (text !== '') body = JSON.parse(text);
    } catch {
      // not JSON: the text stays the body, and expectAnswer says so
    }
    return { status: response.status, body };
  }

  /**
   * Checks an answer: the `status` expected, and its body against `schema` (for 4xx/5xx answers always
   * `ErrorResponse`). Returns the body for further checks.
   *
   * @throws CheckFailure naming the status or the schema violation.
   */
  expectAnswer(answer: PartnerAnswer, status: number, schema?: string): unknown {
    if (answer.status !== status) {
      throw new CheckFailure(`expected HTTP ${status}, got ${answer.status}${describeBody(answer.body)}`);
    }
    const bodySchema = status >= 400 ? 'ErrorResponse' : schema;
    if (bodySchema !== undefined) this.validate('answer', bodySchema, answer.body);
    return answer.body;
  }

  private validate(side: 'request' | 'answer', schema: string, value: unknown): void {
    const validate = this.options.validators.compile(schema);
    if (validate(value)) return;
    const errors = validate.errors ?? [];
    const problems = errors
      .slice(0, 3)
      .map((error) => `${error.instancePath || '(body)'} ${error.message ?? 'is invalid'}`)
      .join('; ');
    const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : '';
    throw new CheckFailure(`${side} breaks ${schema}: ${problems}${more}`);
  }
}

function describeBody(body: unknown): string {
  if (body === undefined) return '';
  return `: ${shorten(typeof body === 'string' ? body : JSON.stringify(body))}`;
}
