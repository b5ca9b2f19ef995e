import { EventPayloadError, generateKeyringEntry, parseEvent, SecretKeyring } from '@ittd/platform';
import { describe, expect, it } from 'vitest';
import {
  actionRunFinished,
  appletChanged,
  partnerServiceChanged,
  partnerServiceKeyContext,
  triggerEventRecorded,
} from './index';

const applet = {
  applet_id: '7',
  version: 3,
  change: 'disabled',
  enabled: false,
  disabled_reason: 'the last 10 runs failed',
  user: { id: '1', timezone: 'Europe/Berlin' },
  trigger: { service: 'weather', slug: 'rain_tomorrow', fields: { city: 'Berlin' }, trigger_identity: '9c' },
  action: { service: 'slack', slug: 'post_message', fields: { text: 'Rain in {{City}}' } },
  changed_at: '2026-11-30T10:00:00.000Z',
};

describe('engine topics', () => {
  it('have distinct names', () => {
    const names = [appletChanged, partnerServiceChanged, triggerEventRecorded, actionRunFinished].map(
      (t) => t.name,
    );
    expect(new Set(names).size).toBe(4);
  });

  it('accept the documented example of applet.changed and name each bad field', () => {
    expect(parseEvent(appletChanged, applet)).toEqual(applet);
    const bad = { ...applet, change: 'renamed', trigger: { ...applet.trigger, fields: { City: 'x' } } };
    const error = (() => {
      try {
        parseEvent(appletChanged, bad);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(EventPayloadError);
    expect((error as EventPayloadError).issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['change', 'trigger.fields.City']),
    );
  });

  it('refuse a partner service without a usable base URL or key', () => {
    const ok = {
      slug: 'weather',
      version: 1,
      name: 'Weather',
      api_base_url: 'https://weather.example',
      service_key_sealed: SecretKeyring.fromSetting(generateKeyringEntry('e1')).seal(
        'sk_1234567890abcdef',
        partnerServiceKeyContext('weather'),
      ),
      changed_at: '2026-11-30T10:00:00.000Z',
    };
    expect(parseEvent(partnerServiceChanged, ok)).toEqual(ok);
    expect(() => parseEvent(partnerServiceChanged, { ...ok, api_base_url: 'ftp://x' })).toThrow(
      /api_base_url/,
    );
    expect(() =>
      parseEvent(partnerServiceChanged, { ...ok, service_key_sealed: 'sk_in_clear_0123' }),
    ).toThrow(/service_key_sealed/);
  });

  it('carry trigger ingredients as the partner sent them, and action run outcomes', () => {
    const recorded = {
      trigger_identity: '9c',
      service: 'weather',
      trigger: 'rain_tomorrow',
      event_id: 'evt_42',
      ingredients: { City: 'Berlin', nested: { a: [1, 2] } },
      occurred_at: '2026-11-30T09:00:00.000Z',
      recorded_at: '2026-11-30T09:00:01.000Z',
    };
    expect(parseEvent(triggerEventRecorded, recorded)).toEqual(recorded);
    const run = {
      run_id: 'r1',
      applet_id: '7',
      user_id: '1',
      trigger_identity: '9c',
      trigger_event_id: 'evt_42',
      action: { service: 'slack', slug: 'post_message' },
      status: 'skipped',
      partner_record_id: null,
      message: 'channel archived',
      attempts: 1,
      duration_ms: 84,
      started_at: '2026-11-30T09:00:01.000Z',
      finished_at: '2026-11-30T09:00:01.084Z',
    };
    expect(parseEvent(actionRunFinished, run)).toEqual(run);
    expect(() => parseEvent(actionRunFinished, { ...run, status: 'pending' })).toThrow(/status/);
  });
});
