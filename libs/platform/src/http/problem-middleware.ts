import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { problemFromDriverError } from './driver-error-problem';
import { HttpProblem, PROBLEM_CONTENT_TYPE } from './http-problem';
import { problemFromZodError } from './zod-problem';
import './request-types';

/** The shape of errors thrown by body-parser / http-errors: a status and whether the message is safe to show. */
interface ExposableError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message: string;
}

/** Maps anything thrown to the problem to send; unknown errors become a bare 500. */
function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof z.ZodError) return problemFromZodError(error);
  if (error instanceof Error) {
    const { status = (error as ExposableError).statusCode, expose, type } = error as ExposableError;
    if (type === 'entity.too.large')
      return new HttpProblem(413, { detail: 'The request body is too large.', cause: error });
    if (type === 'entity.parse.failed')
      return new HttpProblem(400, { detail: 'The request body is not valid JSON.', cause: error });
    if (status !== undefined && status >= 400 && status < 500) {
      return new HttpProblem(status, { detail: expose ? error.message : undefined, cause: error });
    }
  }
  return (
    problemFromDriverError(error) ??
    new HttpProblem(500, { detail: 'An unexpected error occurred.', cause: error })
  );
}

/**
 * The ONE error middleware: sends every error as `application/problem+json` (RFC 9457) with the problem's
 * `headers` (e.g. `WWW-Authenticate`), logs 5xx with their stack (never sent to the client). Mount it last.
 *
 * @example
 * app.use(notFoundHandler, problemMiddleware);
 */
export const problemMiddleware: ErrorRequestHandler = (
  error: unknown,
  req: Request,
  res: Response,
  next: NextFunction,
) => {
  if (res.headersSent) {
    // The answer is already on its way; Express' default handler closes the connection.
    next(error);
    return;
  }
  const problem = toProblem(error);
  if (problem.status >= 500) req.log.error({ err: problem.cause ?? problem }, 'request failed');
  res
    .status(problem.status)
    .set(problem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.toProblemDetails(req.originalUrl)));
};

/**
 * Answers 404 for any route nothing else matched. Mount after every route, before {@link problemMiddleware}.
 */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, { detail: `No route for ${req.method} ${req.path}.` }));
};
