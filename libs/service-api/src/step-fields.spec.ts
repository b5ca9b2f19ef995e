import { describe, expect, it } from 'vitest';
import { FIELD_NAME_REASON, location, slug, stepFields } from './step-fields';

describe('Service API vocabulary', () => {
  it('accepts slugs and refuses anything else', () => {
    expect(slug.safeParse('rain_tomorrow').success).toBe(true);
    for (const bad of ['Rain', '_x', 'a-b', '', 'x'.repeat(64)])
      expect(slug.safeParse(bad).success).toBe(false);
  });

  it('takes strings and Locations as field values, naming a bad key and refusing too many fields', () => {
    expect(stepFields.parse({ city: 'Berlin', where: { lat: 52.5, lng: 13.4 } })).toEqual({
      city: 'Berlin',
      where: { lat: 52.5, lng: 13.4 },
    });
    const badKey = stepFields.safeParse({ City: 'Berlin' });
    expect(badKey.success).toBe(false);
    expect(badKey.error?.issues[0].path).toEqual(['City']);
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, 'x']));
    expect(stepFields.safeParse(tooMany).success).toBe(false);
    expect(stepFields.safeParse({ where: { lat: 91, lng: 0 } }).success).toBe(false);
  });

  it('refuses unknown keys in a Location', () => {
    expect(location.safeParse({ lat: 1, lng: 2, alt: 3 }).success).toBe(false);
  });

  it('refuses a __proto__ field name (an own key after JSON.parse), naming it, with the other bad fields', () => {
    const parsed = stepFields.safeParse(
      JSON.parse('{"__proto__":"x","city":"a\\u0000b","Bad":"y","ok":"z"}'),
    );
    expect(parsed.error?.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [['__proto__'], FIELD_NAME_REASON],
      [['city'], 'must be well-formed Unicode without NUL characters'],
      [['Bad'], FIELD_NAME_REASON],
    ]);
  });

  it('refuses NUL and lone surrogates in values and Location strings, keeps emoji exactly', () => {
    const reasons = (input: string) =>
      stepFields.safeParse(JSON.parse(input)).error?.issues.map((issue) => issue.path.join('.'));
    expect(reasons('{"city":"x\\ud800y"}')).toEqual(['city']);
    expect(reasons('{"where":{"lat":1,"lng":2,"description":"\\udc00"}}')).toEqual(['where.description']);
    expect(reasons('{"where":{"lat":1,"lng":2,"address":"a\\u0000"}}')).toEqual(['where.address']);
    expect(stepFields.parse({ city: 'Köln 🌧', where: { lat: 1, lng: 2, address: '😀' } })).toEqual({
      city: 'Köln 🌧',
      where: { lat: 1, lng: 2, address: '😀' },
    });
    expect(stepFields.safeParse(['x']).success).toBe(false);
    expect(stepFields.safeParse(null).success).toBe(false);
  });
});
