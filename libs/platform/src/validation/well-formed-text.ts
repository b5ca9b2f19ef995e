import { z } from 'zod';

/**
 * Why a string was refused: the `reason` of the 400's `errors` entry (and of a skipped partner event) when
 * a string breaks {@link isWellFormedText}.
 */
export const ILL_FORMED_TEXT_REASON = 'must be well-formed Unicode without NUL characters';

/** Why an object key was refused (by `findIllFormedJson`): the entry names the key itself. */
export const ILL_FORMED_KEY_REASON = 'names must be well-formed Unicode without NUL characters';

/**
 * The platform's one string rule: whether a string from outside (a request, a partner's answer, a job
 * payload) can be stored and sent on as it is. It must be well-formed UTF-16 (no lone surrogate such as
 * `"\ud800"`: UTF-8 cannot encode it, Postgres refuses it in `jsonb` with 22P02/22P05 and silently stores
 * U+FFFD in `text`, and Redis Lua's cjson cannot decode it) and hold no NUL (U+0000: Postgres refuses it in
 * `text` with 22021 and in `jsonb` with 22P05). Valid surrogate pairs (emoji) are fine.
 *
 * @param value any string; O(length), no allocation
 * @returns `true` when the string may be stored, `false` otherwise
 * @example
 *   isWellFormedText('Köln 🌧'); // true
 *   isWellFormedText('a\u0000b'); // false (NUL)
 *   isWellFormedText('x\ud800y'); // false (lone high surrogate)
 */
export function isWellFormedText(value: string): boolean {
  return value.isWellFormed() && !value.includes('\u0000');
}

/**
 * {@link isWellFormedText} as a zod check, for string formats that are not built with {@link text}:
 * `z.url()` accepts a NUL or a lone surrogate in a path, for instance. The message is
 * {@link ILL_FORMED_TEXT_REASON}.
 *
 * @example
 *   const body = z.object({ api_base_url: z.url({ protocol: /^https?$/ }).check(wellFormedText) });
 */
export const wellFormedText = z.refine<string>(isWellFormedText, { error: ILL_FORMED_TEXT_REASON });

/**
 * A string schema that follows the platform's string rule ({@link isWellFormedText}): use it instead of
 * `z.string()` for every string that comes from outside (request bodies, params, queries; partner answers;
 * job payloads). It is a plain `ZodString`, so `.trim()`, `.min()`, `.max()`, `.regex()` chain as usual.
 * A bad string gets the issue {@link ILL_FORMED_TEXT_REASON} at its path (`errors: [{ name: 'name', reason }]`
 * once `parseRequest` turns it into a 400).
 *
 * @param params what `z.string(params)` takes (e.g. `{ error: 'expected a name' }` for the type error)
 * @example
 *   const createUserBody = z.strictObject({ name: text().trim().min(1).max(200) });
 *   createUserBody.safeParse({ name: 'a\u0000b' }).success; // false: name must be well-formed Unicode …
 */
export function text(params?: string | z.core.$ZodStringParams): z.ZodString {
  return z.string(params).check(wellFormedText);
}
