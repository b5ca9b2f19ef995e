import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeTriggerIdentity } from './trigger-identity';

const base = { userId: '1', serviceSlug: 'weather', triggerSlug: 'rain_tomorrow' };

describe('computeTriggerIdentity', () => {
  it('is the sha256 hex of the sorted-key canonical JSON', () => {
    const identity = computeTriggerIdentity({ ...base, fields: { city: 'Berlin', units: 'metric' } });
    const expected = createHash('sha256')
      .update(
        '{"fields":{"city":"Berlin","units":"metric"},"service":"weather","trigger":"rain_tomorrow","user_id":"1"}',
      )
      .digest('hex');
    expect(identity).toBe(expected);
  });

  it('does not depend on key order, at any depth', () => {
    const a = computeTriggerIdentity({
      ...base,
      fields: { city: 'Berlin', place: { lat: 52.5, lng: 13.4, radius: 100 } },
    });
    const b = computeTriggerIdentity({
      ...base,
      fields: { place: { radius: 100, lng: 13.4, lat: 52.5 }, city: 'Berlin' },
    });
    expect(a).toBe(b);
  });

  it('differs across users, services, triggers and field values', () => {
    const reference = computeTriggerIdentity({ ...base, fields: { city: 'Berlin' } });
    const variants = [
      computeTriggerIdentity({ ...base, userId: '2', fields: { city: 'Berlin' } }),
      computeTriggerIdentity({ ...base, serviceSlug: 'weather2', fields: { city: 'Berlin' } }),
      computeTriggerIdentity({ ...base, triggerSlug: 'sunny', fields: { city: 'Berlin' } }),
      computeTriggerIdentity({ ...base, fields: { city: 'Paris' } }),
      computeTriggerIdentity({ ...base, fields: { town: 'Berlin' } }),
      computeTriggerIdentity({ ...base, fields: {} }),
    ];
    expect(new Set([reference, ...variants]).size).toBe(variants.length + 1);
  });
});
