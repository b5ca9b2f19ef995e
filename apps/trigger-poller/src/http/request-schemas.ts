import { decimalInteger, text, wellFormedText } from '@ittd/platform';
import { z } from 'zod';
import { slug, stepFields } from '@ittd/service-api';
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
 * Body of `PUT /admin/subscriptions/:triggerIdentity`. Unknown keys are rejected so that typos are not
 * silently ignored.
 *
 * @example
 *   const input = parseRequest(putSubscriptionBody, req.body);
 */
export const putSubscriptionBody = z.strictObject({
  service_slug: slug,
  api_base_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).check(wellFormedText),
  service_key: text().min(16, { error: 'expected at least 16 characters' }).max(1000),
  trigger_slug: slug,
  trigger_fields: stepFields.default({}),
  user_id: text().min(1).max(128),
  user_timezone: text().min(1).max(64).default('UTC'),
}) satisfies z.ZodType<Omit<SubscriptionInput, 'trigger_identity'>>;

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
