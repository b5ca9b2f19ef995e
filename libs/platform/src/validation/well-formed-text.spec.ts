import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { problemFromZodError } from '../http/zod-problem';
import { ILL_FORMED_TEXT_REASON, isWellFormedText, text, wellFormedText } from './well-formed-text';

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
