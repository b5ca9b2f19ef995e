import { HttpProblem, problemFromDriverError } from '@ittd/platform';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { SKIP_PROBLEM_TYPE } from '../domain/run-action';

/** The Service API's `ErrorResponse`. */
export interface ServiceApiErrorBody {
  errors: { message: string; status?: 'SKIP' }[];
}

/** Body-parser and http-errors errors: a 4xx status and a type. */
interface ParserError {
  status?: number;
  type?: string;
}

function asProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const { status, type } = (error ?? {}) as ParserError;
  if (type === 'entity.parse.failed')
    return new HttpProblem(400, { detail: 'The request body is not valid JSON.' });
  if (type === 'entity.too.large') return new HttpProblem(413, { detail: 'The request body is too large.' });
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpProblem(status);
  // The platform's one mapping of Postgres errors: data exceptions 400, a lost connection 503.
  return (
    problemFromDriverError(error) ??
    new HttpProblem(500, { detail: 'An unexpected error occurred.', cause: error })
  );
}

/**
 * The error answers of the Service API routes. The platform answers errors as problem+json; a partner
 * must answer IFTTT's `ErrorResponse` (`{"errors":[{"message":…}]}`, with `"status":"SKIP"` for a skipped
 * action), so this middleware, mounted on `/ifttt/v1` only, turns the same `HttpProblem`s into that shape:
 * the message is the problem's detail followed by each invalid field (`triggerFields.list: …`). Its
 * headers (`WWW-Authenticate`) are kept; 5xx are logged with their cause and never show it.
 *
 * @example
 *   app.use('/ifttt/v1', serviceApiRouter, serviceApiNotFound, serviceApiErrors);
 */
export const serviceApiErrors: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const problem = asProblem(error);
  if (problem.status >= 500) req.log.error({ err: problem.cause ?? problem }, 'request failed');
  const fields = (problem.errors ?? []).map((field) => `${field.name}: ${field.reason}`);
  const message = [problem.detail ?? problem.title, ...fields].join(' ');
  const body: ServiceApiErrorBody = {
    errors: [problem.type === SKIP_PROBLEM_TYPE ? { status: 'SKIP', message } : { message }],
  };
  res.status(problem.status).set(problem.headers).json(body);
};

/** 404 for a path under `/ifttt/v1` no route matched, as a Service API error. */
export const serviceApiNotFound: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, { detail: `No route for ${req.method} ${req.originalUrl.split('?')[0]}.` }));
};
