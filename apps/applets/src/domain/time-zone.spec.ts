import { describe, expect, it } from 'vitest';
import { canonicalTimeZone } from './time-zone';

describe('canonicalTimeZone', () => {
  it('accepts IANA names in any case and answers their canonical spelling', () => {
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(canonicalTimeZone('US/Pacific')).toBe('America/Los_Angeles');
  });

  it('refuses unknown zones, offsets and junk', () => {
    for (const bad of ['Mars/Base', '+01:00', '', ' UTC', 'Europe/Berlin\u0000', 'x'.repeat(65)]) {
      expect(canonicalTimeZone(bad)).toBeUndefined();
    }
  });
});
