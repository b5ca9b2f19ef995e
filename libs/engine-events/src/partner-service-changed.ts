import { defineTopic, isSealedSecret, text, type EventOf } from '@ittd/platform';
import { slug } from '@ittd/service-api';
import { z } from 'zod';

/**
 * `partner-service.changed`, published by applets in the transaction that registers a partner service or
 * changes its name, API base URL or service key: the registry entry after the change, `version` growing per
 * change of one service (apply only newer versions). Subscribers that call partners (trigger-poller, actions)
 * keep one partner row per service from it, so a key rotates with one change. `service_key_sealed` is the
 * secret sent as `IFTTT-Service-Key`, sealed (AES-256-GCM, `SecretKeyring`) under the engine's shared
 * `EVENTS_SECRETS_KEYS` with the context {@link partnerServiceKeyContext}: neither the publisher's outbox
 * rows nor the Redis stream hold it in clear. Subscribers open it and seal it again under their own keys;
 * never log it, never return it from an API.
 *
 * @example
 *   { slug: 'weather', version: 2, name: 'Weather', api_base_url: 'https://weather.example',
 *     service_key_sealed: 'v1:2026-11:…', changed_at: '2026-11-30T10:00:00.000Z' }
 */
export const partnerServiceChanged = defineTopic(
  'partner-service.changed',
  z.object({
    slug,
    version: z.number().int().positive(),
    name: text().min(1).max(200),
    api_base_url: z.url({ protocol: /^https?$/ }).max(2000),
    service_key_sealed: text()
      .max(1000)
      .refine(isSealedSecret, { error: 'expected a sealed value (v1:<key id>:…)' }),
    changed_at: z.iso.datetime(),
  }),
);

/** A `partner-service.changed` event. */
export type PartnerServiceChangedEvent = EventOf<typeof partnerServiceChanged>;

/**
 * The sealing context of a `partner-service.changed` service key: binds the sealed value to its topic and
 * partner, so it opens for no other partner or field.
 *
 * @example
 *   eventKeys.seal(serviceKey, partnerServiceKeyContext('weather'));
 *   eventKeys.open(event.service_key_sealed, partnerServiceKeyContext(event.slug));
 */
export function partnerServiceKeyContext(slug: string): string {
  return `partner-service.changed.service_key:${slug}`;
}
