import { z } from 'zod';

/**
 * What an integer from text (an env var, a query parameter) may be written as: plain decimal digits with an
 * optional leading minus. No `+`, no hex/binary/octal prefix, no exponent, fraction, separator, whitespace or
 * `Infinity`: `Number()` (and so `z.coerce.number`) would read `0x50` as 80, `1e3` as 1000 and `' '` as 0.
 */
export const DECIMAL_INTEGER = /^-?\d+$/;

/**
 * An integer in `[min, max]` read from text written as {@link DECIMAL_INTEGER}; it must also be a safe integer.
 * Anything else (including a repeated query parameter, which arrives as an array) is one issue whose message
 * names the range: `expected an integer 1-100`. The one number rule of the platform: config's `intField` and
 * every numeric query parameter use it.
 *
 * @param range the smallest and largest value accepted, inclusive
 * @returns a zod codec: decimal text in, number out
 * @example
 * const listQuery = z.object({ limit: decimalInteger({ min: 1, max: 100 }).default(20) });
 * listQuery.parse({ limit: '50' }); // { limit: 50 }
 * listQuery.safeParse({ limit: '0x10' }).success; // false: "expected an integer 1-100"
 */
export function decimalInteger({
  min,
  max,
}: {
  min: number;
  max: number;
}): z.ZodCodec<z.ZodString, z.ZodInt> {
  const error = `expected an integer ${min}-${max}`;
  return z.codec(
    z.string({ error }).regex(DECIMAL_INTEGER, { error }),
    z.int({ error }).min(min, { error }).max(max, { error }),
    { decode: (text) => Number(text), encode: (value) => String(value) },
  );
}
