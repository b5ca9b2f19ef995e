/** One invalid input field of a 400 problem: `name` is a dotted path such as `trigger.fields.city`. */
export interface InvalidParam {
  name: string;
  reason: string;
}

/** The JSON body of an `application/problem+json` answer (RFC 9457). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: InvalidParam[];
}

/** Options of {@link HttpProblem}. */
export interface HttpProblemOptions {
  /** Human-readable explanation specific to this occurrence; shown to clients. */
  detail?: string;
  /** A URI naming the problem type; `about:blank` (the RFC default) when the status says it all. */
  type?: string;
  /** Short summary of the problem type; defaults to the status' reason phrase. */
  title?: string;
  /** The invalid fields, for 400s. */
  errors?: InvalidParam[];
  /**
   * Response headers the problem middleware sets on the answer, e.g. `WWW-Authenticate` on a 401 or
   * `Retry-After` on a 429/503. `Content-Type` is always `application/problem+json` and cannot be overridden.
   */
  headers?: Readonly<Record<string, string>>;
  /** The underlying error, logged (never sent). */
  cause?: unknown;
}

const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * The one error type for HTTP answers: throw it (or `next` it) from any handler and the problem middleware
 * sends it as `application/problem+json`. Anything else thrown becomes a 500 with no details.
 *
 * @example
 * throw new HttpProblem(404, { detail: `applet ${id} does not exist` });
 * throw new HttpProblem(409, { type: 'https://ittd.dev/problems/applet-enabled', title: 'Applet is enabled' });
 * throw new HttpProblem(429, { detail: 'Slow down.', headers: { 'Retry-After': '30' } });
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly status: number;
  readonly title: string;
  readonly type: string;
  readonly detail?: string;
  readonly errors?: InvalidParam[];
  /** Headers of the answer (see {@link HttpProblemOptions.headers}); empty when none. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, options: HttpProblemOptions = {}) {
    const title =
      options.title ?? REASON_PHRASES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
    super(options.detail ?? title, { cause: options.cause });
    this.status = status;
    this.title = title;
    this.type = options.type ?? 'about:blank';
    if (options.detail !== undefined) this.detail = options.detail;
    if (options.errors !== undefined) this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  /** The body to send; `instance` is the request path. */
  toProblemDetails(instance?: string): ProblemDetails {
    const body: ProblemDetails = { type: this.type, title: this.title, status: this.status };
    if (this.detail !== undefined) body.detail = this.detail;
    if (instance !== undefined) body.instance = instance;
    if (this.errors !== undefined) body.errors = this.errors;
    return body;
  }
}

/** The media type of problem answers (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
