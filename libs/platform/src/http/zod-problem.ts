import { z } from 'zod';
import { HttpProblem, type InvalidParam } from './http-problem';

/** A dotted field name (`trigger.fields.city`); `(body)` for the value as a whole. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(body)';
}

/** One entry per invalid field; an object with unknown keys gets one entry per key, named by its path. */
function invalidParams(issue: z.core.$ZodIssue): InvalidParam[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ name: fieldName([...issue.path, key]), reason: 'Unrecognized key' }));
  return [{ name: fieldName(issue.path), reason: issue.message }];
}

/**
 * Turns a zod error into a 400 problem whose `errors` name each invalid field (dotted path) and why. Unknown
 * keys of a strict object are named one by one (`trigger.foo`), so the client sees what to remove.
 *
 * @example
 * const parsed = schema.safeParse(req.body);
 * if (!parsed.success) throw problemFromZodError(parsed.error, 'invalid applet');
 * // errors: [{ name: 'trigger.fields.city', reason: 'Invalid input: expected string, received number' },
 * //          { name: 'trigger.foo', reason: 'Unrecognized key' }]
 */
export function problemFromZodError(error: z.ZodError, detail = 'The request is invalid.'): HttpProblem {
  const errors = error.issues.flatMap(invalidParams);
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
