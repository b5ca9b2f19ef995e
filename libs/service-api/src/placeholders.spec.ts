import { describe, expect, it } from 'vitest';
import { fillPlaceholders, parsePlaceholders } from './placeholders';

describe('parsePlaceholders', () => {
  it('returns the ingredient names in order', () => {
    expect(parsePlaceholders('Rain in {{City}} at {{CreatedAt}}, {{Temp_C2}}')).toEqual({
      ok: true,
      ingredients: ['City', 'CreatedAt', 'Temp_C2'],
    });
  });

  it('accepts text without placeholders and single braces', () => {
    expect(parsePlaceholders('')).toEqual({ ok: true, ingredients: [] });
    expect(parsePlaceholders('a {b} c')).toEqual({ ok: true, ingredients: [] });
    expect(parsePlaceholders('{{A}}{{B}}')).toEqual({ ok: true, ingredients: ['A', 'B'] });
  });

  it.each([
    ['unclosed', 'Hi {{Name', 3, 'unclosed'],
    ['stray close', 'Hi Name}} there', 7, 'without a matching'],
    ['empty name', 'Hi {{}}', 3, 'must be {{Name}}'],
    ['spaces', 'Hi {{ Name }}', 3, 'must be {{Name}}'],
    ['leading digit', '{{1st}}', 0, 'must be {{Name}}'],
    ['punctuation', 'x {{Name.first}}', 2, 'must be {{Name}}'],
    ['nested', '{{A{{B}}}}', 0, 'must be {{Name}}'],
    ['bad after good', '{{A}} and {{', 10, 'unclosed'],
  ])('rejects %s', (_case, text, index, message) => {
    const result = parsePlaceholders(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.index).toBe(index);
    expect(result.message).toContain(message);
  });
});

describe('fillPlaceholders', () => {
  it('fills exact and loose ingredient names', () => {
    expect(
      fillPlaceholders('Rain in {{City}} at {{CreatedAt}}; {{temp}}°', {
        City: 'Berlin',
        created_at: '2026-01-01',
        temp: 3.5,
        meta: { id: 'x', timestamp: 1 },
      }),
    ).toEqual({ text: 'Rain in Berlin at 2026-01-01; 3.5°', missing: [] });
  });

  it('leaves missing ingredients empty and names them; meta is not an ingredient', () => {
    expect(fillPlaceholders('{{Title}}|{{meta}}|{{Body}}', { Title: 'a', meta: { id: '1' } })).toEqual({
      text: 'a||',
      missing: ['meta', 'Body'],
    });
  });

  it('returns text whose placeholders do not parse unchanged', () => {
    expect(fillPlaceholders('Hi {{ Name }}', { Name: 'x' })).toEqual({ text: 'Hi {{ Name }}', missing: [] });
  });

  it('does not read inherited properties', () => {
    expect(fillPlaceholders('{{constructor}}', {})).toEqual({ text: '', missing: ['constructor'] });
  });
});
