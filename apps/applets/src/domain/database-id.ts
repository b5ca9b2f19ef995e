/** The text form of a bigint identity id: no sign, no leading zero, at most 18 digits (fits int8). */
const DATABASE_ID = /^[1-9][0-9]{0,17}$/;

/**
 * Whether a string from a URL or cursor can be a user or applet id. Anything else cannot exist, so callers
 * answer 404 (or 400 for a cursor) instead of sending Postgres a value it would reject with a 500.
 *
 * @example
 *   if (!isDatabaseId(req.params.id)) throw notFound(req.params.id);
 */
export function isDatabaseId(value: string): boolean {
  return DATABASE_ID.test(value);
}
