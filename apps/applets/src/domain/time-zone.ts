/** An IANA zone name: `Area/Location` style letters, digits, `_`, `-`, `+`, `/` (no UTC offsets like `+01:00`). */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/;

/**
 * The canonical spelling of an IANA time zone name as the runtime's ICU knows it (`europe/berlin` ->
 * `Europe/Berlin`, `US/Pacific` -> `America/Los_Angeles`), or `undefined` when it is not one. UTC offsets
 * (`+01:00`) are refused: the Service API's `user.timezone` is a zone name. `Intl.DateTimeFormat` is the
 * check because `Intl.supportedValuesOf('timeZone')` leaves out `UTC` and every alias.
 *
 * @example
 *   canonicalTimeZone('europe/berlin'); // 'Europe/Berlin'
 *   canonicalTimeZone('Mars/Base'); // undefined
 */
export function canonicalTimeZone(name: string): string | undefined {
  if (!ZONE_NAME.test(name)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
    return ZONE_NAME.test(resolved) ? resolved : undefined;
  } catch {
    return undefined;
  }
}
