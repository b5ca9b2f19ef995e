import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { problemFromZodError } from '../http/zod-problem';
import { findIllFormedJson, MAX_JSON_DEPTH, TOO_DEEP_REASON, wellFormedJson } from './well-formed-json';
import { ILL_FORMED_KEY_REASON, ILL_FORMED_TEXT_REASON, text } from './well-formed-text';

// Built from code units, so the test source itself stays well-formed.
const NUL = String.fromCharCode(0);
const LOW = String.fromCharCode(0xdc00);

/** Arrays nested `levels` deep around `inner` (JSON text): `nested(2, '1')` is `[[1]]`. */
function nested(levels: number, inner = ''): string {
  return `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
}

describe('findIllFormedJson: strings', () => {
  it('finds bad strings and bad keys at any depth, __proto__ and arrays included', () => {
    const value: unknown = JSON.parse(
      '{"ok":"😀","a":[1,"x\\ud800y",{"b":null}],"k\\u0000":true,"__proto__":{"deep":{"c":"\\udc00"}},"n":{"m":"a\\u0000"}}',
    );
    expect(findIllFormedJson(value)).toEqual([
      { path: [`k${NUL}`], reason: ILL_FORMED_KEY_REASON },
      { path: ['a', 1], reason: ILL_FORMED_TEXT_REASON },
      { path: ['__proto__', 'deep', 'c'], reason: ILL_FORMED_TEXT_REASON },
      { path: ['n', 'm'], reason: ILL_FORMED_TEXT_REASON },
    ]);
    expect(findIllFormedJson({ ok: ['😀', { nested: 'Köln' }], n: 1, b: false, z: null })).toEqual([]);
    expect(findIllFormedJson(`x${LOW}`)).toEqual([{ path: [], reason: ILL_FORMED_TEXT_REASON }]);
  });

  it('caps the findings', () => {
    expect(
      findIllFormedJson(
        Array.from({ length: 500 }, () => NUL),
        10,
      ),
    ).toHaveLength(10);
    expect(findIllFormedJson(Array.from({ length: 500 }, () => NUL))).toHaveLength(100);
  });
});

describe('findIllFormedJson: depth', () => {
  it(`allows ${MAX_JSON_DEPTH} levels of objects and arrays, and names the first object or array past them`, () => {
    expect(findIllFormedJson(JSON.parse(nested(MAX_JSON_DEPTH, '"x"')))).toEqual([]);
    expect(findIllFormedJson(JSON.parse(nested(MAX_JSON_DEPTH, '{}')))).toEqual([
      { path: Array.from({ length: MAX_JSON_DEPTH }, () => 0), reason: TOO_DEEP_REASON },
    ]);
    const objects = JSON.parse(`${'{"a":'.repeat(MAX_JSON_DEPTH)}[]${'}'.repeat(MAX_JSON_DEPTH)}`) as unknown;
    expect(findIllFormedJson(objects)).toEqual([
      { path: Array.from({ length: MAX_JSON_DEPTH }, () => 'a'), reason: TOO_DEEP_REASON },
    ]);
  });

  it('refuses a value 100,000 levels deep once, at level 65, without looking below it', () => {
    // JSON.parse reads it; JSON.stringify cannot write it back (why the rule exists).
    const deep: unknown = JSON.parse(nested(100_000, '"a\\u0000"'));
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const found = findIllFormedJson({ event: { payload: deep } });
    expect(found).toEqual([{ path: ['event', 'payload', ...Array(62).fill(0)], reason: TOO_DEEP_REASON }]);
  });

  it('reports each too-deep branch and the bad strings beside them, in document order', () => {
    const value: unknown = JSON.parse(`{"a":${nested(70)},"b":"x\\u0000","c":[${nested(65)},"ok"]}`);
    expect(findIllFormedJson(value).map(({ path, reason }) => [path.slice(0, 2).join('.'), reason])).toEqual([
      ['a.0', TOO_DEEP_REASON],
      ['b', ILL_FORMED_TEXT_REASON],
      ['c.0', TOO_DEEP_REASON],
    ]);
  });
});

describe('wellFormedJson', () => {
  it('keeps the input as it is and pipes into a shape', () => {
    const event = wellFormedJson.pipe(z.looseObject({ meta: z.looseObject({ id: text() }) }));
    const good: unknown = JSON.parse('{"meta":{"id":"e1"},"title":"🌧"}');
    expect(wellFormedJson.parse(good)).toBe(good);
    expect(event.parse(good)).toEqual(good);
    const bad = event.safeParse(JSON.parse('{"meta":{"id":"e1"},"x":{"title":"a\\u0000b"}}'));
    expect(bad.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['x', 'title'], ILL_FORMED_TEXT_REASON],
    ]);
  });

  it('names the field where a request value passes the depth limit in the 400 problem', () => {
    const body = z.strictObject({ name: text(), data: wellFormedJson });
    const result = body.safeParse({ name: 'ok', data: { list: JSON.parse(nested(100_000)) } });
    expect(result.success).toBe(false);
    const problem = problemFromZodError(result.error as z.ZodError);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      { name: ['data', 'list', ...Array(63).fill(0)].join('.'), reason: TOO_DEEP_REASON },
    ]);
  });
});
