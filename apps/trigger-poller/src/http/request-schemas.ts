import { decimalInteger, text, wellFormedText } from '@ittd/platform';
import { z } from 'zod';
import { slug, stepFields } from '@ittd/service-api';
import type { PartnerInput } from '../data/partner-repository';
import type { SubscriptionInput } from '../data/subscription-repository';

/** Most entries of one realtime notification (Service API). */
export const MAX_NOTIFICATION_ENTRIES = 1000;

/** Most events `GET …/events` answers. */
export const MAX_EVENTS_PAGE = 100;

/** A trigger identity as a path segment or notification entry: what the engine generates (a SHA-256 hex or similar). */
const triggerIdentity = text().regex(/^[A-Za-z0-9_.:-]{1,128}$/, {
  error: 'expected 1-128 characters among A-Z a-z 0-9 _ . : -',
});

/**
 * Path parameter of `/admin/subscriptions/:triggerIdentity`.
 *
 * @example
 *   const { triggerIdentity } = parseRequest(subscriptionPath, req.params);
 */
export const subscriptionPath = z.object({ triggerIdentity });

/**
 * Body of `PUT /admin/subscriptions/:triggerIdentity`: the trigger to poll and the partner (`service_slug`,
 * a row of `/admin/partners`) whose key and base URL the polls use. Unknown keys are rejected so that typos,
 * and the `api_base_url` / `service_key` of the older shape, are not silently ignored.
 *
 * @example
 *   const input = parseRequest(putSubscriptionBody, req.body);
 */
export const putSubscriptionBody = z.strictObject({
  service_slug: slug,
  trigger_slug: slug,
  trigger_fields: stepFields.default({}),
  user_id: text().min(1).max(128),
  user_timezone: text().min(1).max(64).default('UTC'),
}) satisfies z.ZodType<Omit<SubscriptionInput, 'trigger_identity'>>;

/**
 * Path parameter of `/admin/partners/:slug`.
 *
 * @example
 *   const { slug } = parseRequest(partnerPath, req.params);
 */
export const partnerPath = z.object({ slug });

/**
 * Body of `PUT /admin/partners/:slug`: the partner's name (default: the slug), API base URL and service key
 * (the same bounds as `partner-service.changed`). Unknown keys are rejected.
 *
 * @example
 *   const input = parseRequest(putPartnerBody, req.body);
 */
export const putPartnerBody = z.strictObject({
  name: text().min(1).max(200).optional(),
  api_base_url: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .max(2000)
    .check(wellFormedText),
  service_key: text().min(16, { error: 'expected at least 16 characters' }).max(500),
}) satisfies z.ZodType<Omit<PartnerInput, 'slug' | 'name'> & { name?: string }>;

/**
 * Query of `GET /admin/subscriptions/:triggerIdentity/events`.
 *
 * @example
 *   const { limit } = parseRequest(listEventsQuery, req.query);
 */
export const listEventsQuery = z.object({
  limit: decimalInteger({ min: 1, max: MAX_EVENTS_PAGE }).default(20),
});

/**
 * One notification entry: `{trigger_identity}` or `{user_id}` (other keys are ignored, as the Service API
 * asks of both sides).
 */
const notificationEntry = z
  .object({ trigger_identity: triggerIdentity.optional(), user_id: text().min(1).max(128).optional() })
  .refine((entry) => entry.trigger_identity !== undefined || entry.user_id !== undefined, {
    error: 'expected trigger_identity or user_id',
  });

/**
 * Body of `POST /v1/notifications`: `{ data: [{trigger_identity} | {user_id}] }`, up to 1000 entries.
 *
 * @example
 *   const { data } = parseRequest(notificationBody, req.body);
 */
export const notificationBody = z.object({
  data: z.array(notificationEntry).max(MAX_NOTIFICATION_ENTRIES, {
    error: `at most ${MAX_NOTIFICATION_ENTRIES} entries`,
  }),
});
