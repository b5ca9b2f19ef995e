import { describe, expect, it } from 'vitest';
import { location, slug, stepFields } from './step-fields';

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
});
