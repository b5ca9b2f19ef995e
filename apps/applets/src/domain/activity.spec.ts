import { appletChanged } from '@ittd/engine-events';
import { describe, expect, it } from 'vitest';
import { autoDisableReason } from './activity';

describe('autoDisableReason', () => {
  it('names the count and the last error', () => {
    expect(autoDisableReason(10, 'HTTP 401')).toBe(
      'disabled after 10 failed runs in a row; last error: HTTP 401',
    );
    expect(autoDisableReason(3, null)).toBe('disabled after 3 failed runs in a row');
  });

  it('fits applet.changed whatever the message, without splitting a surrogate pair', () => {
    const reason = autoDisableReason(1000, '😀'.repeat(2000));
    expect(reason.isWellFormed()).toBe(true);
    expect(reason.endsWith('😀…')).toBe(true);
    const event = {
      applet_id: '7',
      version: 2,
      change: 'disabled',
      enabled: false,
      disabled_reason: reason,
      user: { id: '1', timezone: 'UTC' },
      trigger: { service: 'weather', slug: 'rain', fields: {}, trigger_identity: '9c' },
      action: { service: 'slack', slug: 'post', fields: {} },
      changed_at: '2026-11-30T10:00:00.000Z',
    };
    expect(appletChanged.schema.safeParse(event).success).toBe(true);
    // Within 1000 UTF-16 units, however the schema counts (zod counts code points).
    expect(reason.length).toBeLessThanOrEqual(1000);
  });
});
