import { z } from 'zod';

/**
 * Why a string was refused: the `reason` of the 400's `errors` entry (and of a skipped partner event) when
 * a string breaks {@link isWellFormedText}.
 */
export const ILL_FORMED_TEXT_REASON = 'must be well-formed Unicode without NUL characters';

/** Why an object key was refused by {@link findIllFormedText}: the entry names the key itself. */
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
 * `z.url()` accepts a NUL or a lone surrogate in a path, for instance. The issue's message is
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

/** One ill-formed string inside a JSON value: where (`path`, a key's own name last) and why. */
export interface IllFormedText {
  path: (string | number)[];
  reason: string;
}

/**
 * Finds every string of a JSON value (as `JSON.parse` gives it) that breaks {@link isWellFormedText}:
 * string values and object keys, at any depth, own keys only and `__proto__` included (`JSON.parse` makes it
 * an own key; zod's object and record parsing would skip it). A bad value is named by its path, a bad key by
 * the path to it (the key last) with {@link ILL_FORMED_KEY_REASON}. Walks with an explicit stack, so deep
 * nesting cannot overflow the call stack; stops after `limit` findings.
 *
 * @param value a JSON value: object, array, string, number, boolean or null (other types are not looked into)
 * @param limit most findings returned (default 100), so a huge bad value does not make a huge answer
 * @returns the findings in document order (an object's bad keys before its values), empty when the whole
 *   value may be stored (e.g. in `jsonb`)
 * @example
 *   findIllFormedText({ title: 'ok', tags: ['x\ud800'], 'k\u0000': 1 });
 *   // [{ path: ['k\u0000'], reason: 'names must be …' }, { path: ['tags', 0], reason: 'must be well-formed …' }]
 */
export function findIllFormedText(value: unknown, limit = 100): IllFormedText[] {
  const found: IllFormedText[] = [];
  // Each pending value links to its parent, so a path is built only for a finding (deep values stay linear).
  const pending: PendingValue[] = [{ value }];
  while (pending.length > 0 && found.length < limit) {
    const next = pending.pop() as PendingValue;
    const current = next.value;
    if (typeof current === 'string') {
      if (!isWellFormedText(current)) found.push({ path: pathOf(next), reason: ILL_FORMED_TEXT_REASON });
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--)
        pending.push({ value: current[index], parent: next, key: index });
    } else if (typeof current === 'object' && current !== null) {
      const keys = Object.keys(current);
      for (const key of keys) {
        if (!isWellFormedText(key))
          found.push({ path: [...pathOf(next), key], reason: ILL_FORMED_KEY_REASON });
      }
      for (let index = keys.length - 1; index >= 0; index--) {
        const key = keys[index];
        pending.push({ value: (current as Record<string, unknown>)[key], parent: next, key });
      }
    }
  }
  return found.slice(0, limit);
}

/** A value still to look at, with the way back to the root. */
interface PendingValue {
  value: unknown;
  parent?: PendingValue;
  key?: string | number;
}

/** The path from the root to a pending value. */
function pathOf(node: PendingValue): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: PendingValue | undefined = node; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * A JSON value that may be stored as it is (in a `jsonb` column, a Redis job record, a message to a
 * partner): every string value and every object key follows {@link isWellFormedText}, at any depth. One
 * issue per bad string, at its path ({@link findIllFormedText}). The output is the input itself, not a copy,
 * so no key is lost; pipe it into a schema for the shape: `wellFormedJson.pipe(z.looseObject({...}))`.
 *
 * @example
 *   const event = wellFormedJson.pipe(z.looseObject({ meta: z.looseObject({ id: text() }) }));
 *   event.safeParse(JSON.parse('{"meta":{"id":"e1"},"title":"a\\u0000b"}')).error?.issues[0].path; // ['title']
 */
export const wellFormedJson = z.unknown().superRefine((value, ctx) => {
  for (const { path, reason } of findIllFormedText(value))
    ctx.addIssue({ code: 'custom', path, message: reason });
});
