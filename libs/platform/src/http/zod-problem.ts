import { z } from 'zod';
import { HttpProblem, type InvalidParam } from './http-problem';

/**
 * Turns a zod error into a 400 problem whose `errors` name each invalid field (dotted path) and why.
 *
 * @example
 * const parsed = schema.safeParse(req.body);
 * if (!parsed.success) throw problemFromZodError(parsed.error, 'invalid applet');
 */
export function problemFromZodError(error: z.ZodError, detail = 'The request is invalid.'): HttpProblem {
  const errors: InvalidParam[] = error.issues.map((issue) => ({
    name: issue.path.map(String).join('.') || '(body)',
    reason: issue.message,
  }));
  return new HttpProblem(400, { detail, errors, cause: error });
}

/**
 * Validates a request part against a zod schema, throwing a 400 {@link HttpProblem} naming the fields.
 *
 * @example
 * app.post('/applets', (req, res) => {
 *   const input = parseRequest(createAppletSchema, req.body);
 *   ...
 * });
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown, detail?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw problemFromZodError(result.error, detail);
  return result.data;
}
