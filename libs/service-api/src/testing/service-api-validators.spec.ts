import { describe, expect, it } from 'vitest';
import { serviceApiValidators } from './service-api-validators';

const event = (ingredient: unknown) => ({ data: [{ Title: ingredient, meta: { id: 'e1', timestamp: 1 } }] });

describe('serviceApiValidators', () => {
  it('accepts string and Location values the published file would reject, and rejects other types', () => {
    const { response, compile } = serviceApiValidators();
    expect(response(event('x'))).toBe(true);
    expect(response(event({ lat: 1, lng: 2 }))).toBe(true);
    expect(response(event(42))).toBe(false);
    const actionRun = compile('ActionRunRequest');
    expect(actionRun({ actionFields: { message: 'hi' }, user: { timezone: 'UTC' } })).toBe(true);
    expect(actionRun({ actionFields: { message: 1 }, user: { timezone: 'UTC' } })).toBe(false);
    expect(compile('QueryRow')({ Title: 'x' })).toBe(true);
  });

  it("drops the value type altogether with values: 'any' (the fake partner's malformed ingredients)", () => {
    const { response } = serviceApiValidators({ values: 'any' });
    expect(response(event(42))).toBe(true);
    expect(response({ data: [{ meta: { timestamp: 1 } }] })).toBe(false);
  });

  it('names a schema the file lacks', () => {
    expect(() => serviceApiValidators().compile('NoSuchSchema')).toThrow(/no NoSuchSchema/);
  });
});
