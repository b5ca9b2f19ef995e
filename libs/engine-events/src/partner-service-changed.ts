import { defineTopic, text, type EventOf } from '@ittd/platform';
import { slug } from '@ittd/service-api';
import { z } from 'zod';

/**
 * `partner-service.changed`, published by applets in the transaction that registers a partner service or
 * changes its name, API base URL or service key: the registry entry after the change, `version` growing per
 * change of one service (apply only newer versions). Subscribers that call partners (trigger-poller, actions)
 * keep one partner row per service from it, so a key rotates with one change. `service_key` is the secret
 * sent as `IFTTT-Service-Key`: never log an event of this topic, never return the key from an API.
 *
 * @example
 *   { slug: 'weather', version: 2, name: 'Weather', api_base_url: 'https://weather.example',
 *     service_key: 'sk_…', changed_at: '2026-11-30T10:00:00.000Z' }
 */
export const partnerServiceChanged = defineTopic(
  'partner-service.changed',
  z.object({
    slug,
    version: z.number().int().positive(),
    name: text().min(1).max(200),
    api_base_url: z.url({ protocol: /^https?$/ }).max(2000),
    service_key: text().min(1).max(500),
    changed_at: z.iso.datetime(),
  }),
);

/** A `partner-service.changed` event. */
export type PartnerServiceChangedEvent = EventOf<typeof partnerServiceChanged>;
