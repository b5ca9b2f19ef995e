import { z } from 'zod';
import { ILL_FORMED_KEY_REASON, ILL_FORMED_TEXT_REASON, isWellFormedText } from './well-formed-text';

/**
 * Most levels of objects and arrays a JSON value from outside may nest (the outermost object or array is
 * level 1: `{"a":[1]}` has 2). Far above what a request or a partner event needs, far below what breaks:
 * `JSON.stringify` overflows the call stack a few thousand levels down (a `RangeError`, so a `jsonb` insert
 * or a job enqueue throws), Postgres refuses `jsonb` some 10,000 levels deep (54001 "stack depth limit
 * exceeded" with the default 2MB `max_stack_depth`; 500 levels still pass at its 100kB minimum), and
 * Ruby's `JSON.parse` refuses more than 100 levels by default (`max_nesting`).
 */
export const MAX_JSON_DEPTH = 64;

/** Why a value was refused by {@link findIllFormedJson}: the entry names the object or array one level too deep. */
export const TOO_DEEP_REASON = `must not nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep`;

/** One part of a JSON value that cannot be stored: where (`path`, a key's own name last) and why. */
export interface IllFormedJson {
  path: (string | number)[];
  reason: string;
}

/**
 * Finds every part of a JSON value (as `JSON.parse` gives it) that cannot be stored or re-encoded as it is:
 * a string value or object key that breaks the string rule ({@link isWellFormedText}), and an object or
 * array nested deeper than {@link MAX_JSON_DEPTH} levels ({@link TOO_DEEP_REASON}, named by its own path;
 * nothing below it is looked at). Own keys only, `__proto__` included (`JSON.parse` makes it an own key;
 * zod's object and record parsing would skip it). A bad value is named by its path, a bad key by the path to
 * it with the key last ({@link ILL_FORMED_KEY_REASON}). Walks with an explicit stack and never below the
 * depth limit, so a value 100,000 levels deep costs no more than one 65 levels deep; stops after `limit`
 * findings.
 *
 * @param value a JSON value: object, array, string, number, boolean or null (other types are not looked into)
 * @param limit most findings returned (default 100), so a huge bad value does not make a huge answer
 * @returns the findings in document order (an object's bad keys before its values), empty when the whole
 *   value may be stored (in `jsonb`, a job record, a message to a partner)
 * @example
 *   findIllFormedJson({ title: 'ok', tags: ['x\ud800'], 'k\u0000': 1 });
 *   // [{ path: ['k\u0000'], reason: 'names must be …' }, { path: ['tags', 0], reason: 'must be well-formed …' }]
 *   findIllFormedJson({ a: JSON.parse('['.repeat(100) + ']'.repeat(100)) });
 *   // [{ path: ['a', 0, 0, …] (64 keys), reason: 'must not nest objects and arrays more than 64 levels deep' }]
 */
export function findIllFormedJson(value: unknown, limit = 100): IllFormedJson[] {
  const found: IllFormedJson[] = [];
  // Each pending value links to its parent, so a path is built only for a finding.
  const pending: PendingValue[] = [{ value, depth: 0 }];
  while (pending.length > 0 && found.length < limit) {
    const next = pending.pop() as PendingValue;
    const current = next.value;
    if (typeof current === 'string') {
      if (!isWellFormedText(current)) found.push({ path: pathOf(next), reason: ILL_FORMED_TEXT_REASON });
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const depth = next.depth + 1;
    if (depth > MAX_JSON_DEPTH) {
      found.push({ path: pathOf(next), reason: TOO_DEEP_REASON });
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--)
        pending.push({ value: current[index], depth, parent: next, key: index });
    } else {
      const keys = Object.keys(current);
      for (const key of keys) {
        if (!isWellFormedText(key))
          found.push({ path: [...pathOf(next), key], reason: ILL_FORMED_KEY_REASON });
      }
      for (let index = keys.length - 1; index >= 0; index--) {
        const key = keys[index];
        pending.push({ value: (current as Record<string, unknown>)[key], depth, parent: next, key });
      }
    }
  }
  return found.slice(0, limit);
}

/** A value still to look at: how many objects and arrays hold it, and the way back to the root. */
interface PendingValue {
  value: unknown;
  depth: number;
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
 * A JSON value from outside that may be stored and re-encoded as it is (in a `jsonb` column, a Redis job
 * record, a message to a partner): every string value and object key follows {@link isWellFormedText}, and
 * objects and arrays nest at most {@link MAX_JSON_DEPTH} levels. One issue per finding, at its path
 * ({@link findIllFormedJson}), so a request gets a 400 naming it. Use it for every free-form JSON part of a
 * request body, job payload or partner answer: `z.unknown()`, `z.record()` or `z.looseObject()` alone let
 * through a value that `JSON.stringify` or Postgres cannot handle. The output is the input itself, not a
 * copy, so no key is lost; pipe it into a schema for the shape: `wellFormedJson.pipe(z.looseObject({...}))`.
 *
 * @example
 *   const event = wellFormedJson.pipe(z.looseObject({ meta: z.looseObject({ id: text() }) }));
 *   event.safeParse(JSON.parse('{"meta":{"id":"e1"},"title":"a\\u0000b"}')).error?.issues[0].path; // ['title']
 *   const body = z.strictObject({ data: wellFormedJson });
 *   body.safeParse({ data: JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) }).error?.issues[0].message;
 *   // 'must not nest objects and arrays more than 64 levels deep' (at data.0.0…, 65 keys)
 */
export const wellFormedJson = z.unknown().superRefine((value, ctx) => {
  for (const { path, reason } of findIllFormedJson(value))
    ctx.addIssue({ code: 'custom', path, message: reason });
});
