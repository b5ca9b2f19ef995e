import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { problemFromZodError } from '../http/zod-problem';
import {
  findIllFormedText,
  ILL_FORMED_KEY_REASON,
  ILL_FORMED_TEXT_REASON,
  isWellFormedText,
  text,
  wellFormedJson,
  wellFormedText,
} from './well-formed-text';

// Built from code units, so the test source itself stays well-formed.
const NUL = String.fromCharCode(0);
const HIGH = String.fromCharCode(0xd800);
const LOW = String.fromCharCode(0xdc00);

describe('isWellFormedText', () => {
  it('refuses NUL and lone high or low surrogates anywhere in the string', () => {
    for (const bad of [NUL, `a${NUL}b`, `x${HIGH}y`, `x${LOW}y`, HIGH, `${LOW}${HIGH}`, '😀'.slice(0, 1)])
      expect(isWellFormedText(bad), JSON.stringify(bad)).toBe(false);
  });

  it('allows the empty string, surrogate pairs, emoji and other control characters', () => {
    for (const good of ['', 'Köln', `${HIGH}${LOW}`, '😀 party', '👩‍👩‍👧', 'tab\tnew\nline', '\u0001'])
      expect(isWellFormedText(good), JSON.stringify(good)).toBe(true);
  });
});

describe('text()', () => {
  it('is a string schema whose min/max/trim still chain, with the rule as the reason', () => {
    const name = text().trim().min(1).max(5);
    expect(name.parse('  ada ')).toBe('ada');
    expect(name.safeParse('').success).toBe(false);
    expect(name.safeParse('abcdef').success).toBe(false);
    expect(name.safeParse(7).error?.issues[0].code).toBe('invalid_type');
    expect(name.safeParse(`a${NUL}`).error?.issues.map((issue) => issue.message)).toEqual([
      ILL_FORMED_TEXT_REASON,
    ]);
  });

  it('names the field in the 400 problem', () => {
    const body = z.strictObject({ name: text(), tags: z.array(text()) });
    const result = body.safeParse(JSON.parse('{"name":"x\\ud800y","tags":["ok","a\\u0000b"]}'));
    expect(result.success).toBe(false);
    const problem = problemFromZodError(result.error as z.ZodError);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([
      { name: 'name', reason: ILL_FORMED_TEXT_REASON },
      { name: 'tags.1', reason: ILL_FORMED_TEXT_REASON },
    ]);
  });

  it('takes the rule as a check for string formats such as z.url()', () => {
    const url = z.url().check(wellFormedText);
    expect(z.url().safeParse(`https://a.example/${NUL}`).success).toBe(true); // why the check is needed
    expect(url.safeParse(`https://a.example/${NUL}`).success).toBe(false);
    expect(url.safeParse(`https://a.example/x${HIGH}`).success).toBe(false);
    expect(url.safeParse('https://a.example/😀').success).toBe(true);
  });
});

describe('findIllFormedText / wellFormedJson', () => {
  it('finds bad strings and bad keys at any depth, __proto__ and arrays included', () => {
    const value: unknown = JSON.parse(
      '{"ok":"😀","a":[1,"x\\ud800y",{"b":null}],"k\\u0000":true,"__proto__":{"deep":{"c":"\\udc00"}},"n":{"m":"a\\u0000"}}',
    );
    expect(findIllFormedText(value)).toEqual([
      { path: [`k${NUL}`], reason: ILL_FORMED_KEY_REASON },
      { path: ['a', 1], reason: ILL_FORMED_TEXT_REASON },
      { path: ['__proto__', 'deep', 'c'], reason: ILL_FORMED_TEXT_REASON },
      { path: ['n', 'm'], reason: ILL_FORMED_TEXT_REASON },
    ]);
    expect(findIllFormedText({ ok: ['😀', { nested: 'Köln' }], n: 1, b: false, z: null })).toEqual([]);
    expect(findIllFormedText(`x${LOW}`)).toEqual([{ path: [], reason: ILL_FORMED_TEXT_REASON }]);
  });

  it('walks very deep values without overflowing the stack, and caps the findings', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"a\\u0000"${']'.repeat(100_000)}`) as unknown;
    expect(findIllFormedText(deep)).toHaveLength(1);
    expect(
      findIllFormedText(
        Array.from({ length: 500 }, () => NUL),
        10,
      ),
    ).toHaveLength(10);
  });

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
});
