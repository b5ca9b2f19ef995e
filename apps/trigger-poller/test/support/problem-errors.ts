/**
 * The `errors` of a 400 problem+json answer as `{ [field name]: reason }`, so a test compares which fields were
 * named and why in one assertion.
 *
 * @example
 *   expect(errorsOf(response.body)).toEqual({ user_id: 'must be well-formed Unicode without NUL characters' });
 */
export function errorsOf(body: unknown): Record<string, string> {
  const problem = body as { errors: { name: string; reason: string }[] };
  return Object.fromEntries(problem.errors.map((error) => [error.name, error.reason]));
}
