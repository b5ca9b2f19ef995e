import { decimalInteger, text, wellFormedText } from '@ittd/platform';
import { z } from 'zod';
import type { CreateAppletInput, UpdateAppletInput } from '../domain/applet';
import { MAX_PAGE_SIZE } from '../domain/applets';
import type { ChangePartnerServiceInput, RegisterPartnerServiceInput } from '../domain/partner-services';
import { canonicalTimeZone } from '../domain/time-zone';
import type { CreateUserInput, UpdateUserInput } from '../domain/users';
import type { CreateApiTokenInput } from '../domain/api-tokens';
import { parsePlaceholders, slug, stepFields, type StepFields } from '@ittd/service-api';

/** Action fields: like trigger fields, and every string's `{{Ingredient}}` placeholders must be well-formed. */
const actionFields = stepFields.superRefine((fields, ctx) => {
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const parsed = parsePlaceholders(value);
    if (!parsed.ok) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `${parsed.message} (at character ${parsed.index})`,
      });
    }
  }
}) satisfies z.ZodType<StepFields>;

/**
 * Body of `POST /v1/applets`. Unknown keys are rejected so that typos (`trigger.field`) are not silently
 * ignored.
 *
 * @example
 *   const input = parseRequest(createAppletBody, req.body);
 */
export const createAppletBody = z.strictObject({
  trigger: z.strictObject({ service: slug, slug, fields: stepFields.default({}) }),
  action: z.strictObject({ service: slug, slug, fields: actionFields.default({}) }),
  enabled: z.boolean().default(true),
}) satisfies z.ZodType<CreateAppletInput>;

/**
 * Body of `PATCH /v1/applets/:id`: enable/disable and/or replace trigger or action fields; at least one.
 *
 * @example
 *   const input = parseRequest(updateAppletBody, req.body);
 */
export const updateAppletBody = z
  .strictObject({
    enabled: z.boolean().optional(),
    trigger: z.strictObject({ fields: stepFields }).optional(),
    action: z.strictObject({ fields: actionFields }).optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    error: 'give at least one of enabled, trigger.fields, action.fields',
  }) satisfies z.ZodType<UpdateAppletInput>;

/**
 * Query of `GET /v1/applets`: `limit` 1..MAX_PAGE_SIZE and the opaque `cursor` of the previous page.
 *
 * @example
 *   const { limit, cursor } = parseRequest(listAppletsQuery, req.query);
 */
export const listAppletsQuery = z.object({
  limit: decimalInteger({ min: 1, max: MAX_PAGE_SIZE }).optional(),
  cursor: text().min(1).max(200).optional(),
});

/**
 * Query of `GET /v1/applets/:id/activity`: `limit` 1..MAX_PAGE_SIZE and the opaque `cursor` of the
 * previous page.
 *
 * @example
 *   const { limit, cursor } = parseRequest(listActivityQuery, req.query);
 */
export const listActivityQuery = z.object({
  limit: decimalInteger({ min: 1, max: MAX_PAGE_SIZE }).optional(),
  // A run id of 100 non-ASCII characters makes a cursor of about 450 characters.
  cursor: text().min(1).max(1000).optional(),
});

/** A partner service's display name. */
const serviceName = text().trim().min(1).max(200);

/** A partner's API base URL (http or https); at most 2000 characters, as `partner-service.changed` allows. */
const apiBaseUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .max(2000)
  .check(wellFormedText);

/** A partner's service key: 16 to 500 characters, as `partner-service.changed` allows. */
const serviceKey = text().min(16, { error: 'expected at least 16 characters' }).max(500);

/**
 * Body of `POST /admin/services`.
 *
 * @example
 *   const input = parseRequest(registerPartnerServiceBody, req.body);
 */
export const registerPartnerServiceBody = z.strictObject({
  slug,
  name: serviceName,
  api_base_url: apiBaseUrl,
  service_key: serviceKey,
}) satisfies z.ZodType<RegisterPartnerServiceInput>;

/**
 * Body of `PATCH /admin/services/:slug`: any of name, API base URL, service key; at least one.
 *
 * @example
 *   const input = parseRequest(changePartnerServiceBody, req.body);
 */
export const changePartnerServiceBody = z
  .strictObject({
    name: serviceName.optional(),
    api_base_url: apiBaseUrl.optional(),
    service_key: serviceKey.optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    error: 'give at least one of name, api_base_url, service_key',
  }) satisfies z.ZodType<ChangePartnerServiceInput>;

/**
 * An IANA time zone name (`Europe/Berlin`, `UTC`), answered in its canonical spelling; anything else
 * (unknown zones, UTC offsets) is refused naming the field.
 */
const timeZone = text()
  .max(64)
  .transform((value, ctx) => {
    const canonical = canonicalTimeZone(value);
    if (canonical === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected an IANA time zone name such as Europe/Berlin' });
      return z.NEVER;
    }
    return canonical;
  });

/**
 * Body of `POST /admin/users`.
 *
 * @example
 *   const { name } = parseRequest(createUserBody, req.body);
 */
export const createUserBody = z.strictObject({
  name: text().trim().min(1).max(200),
  timezone: timeZone.optional(),
}) satisfies z.ZodType<CreateUserInput>;

/**
 * Body of `PATCH /admin/users/:id`: today the time zone only.
 *
 * @example
 *   const input = parseRequest(updateUserBody, req.body);
 */
export const updateUserBody = z.strictObject({
  timezone: timeZone,
}) satisfies z.ZodType<UpdateUserInput>;

/**
 * Body of `POST /v1/tokens` and `POST /admin/users/:id/tokens` (both optional: an empty body is a token
 * named `default` that never expires). `expires_at` is an RFC 3339 instant in the future.
 *
 * @example
 *   const input = parseRequest(createTokenBody, req.body ?? {});
 */
export const createTokenBody = z.strictObject({
  name: text().trim().min(1).max(100).optional(),
  expires_at: z.iso
    .datetime({ offset: true, error: 'expected an RFC 3339 date-time such as 2027-01-01T00:00:00Z' })
    .refine((value) => !(Date.parse(value) <= Date.now()), { error: 'must be in the future' }) // NaN: the format's error
    .optional(),
}) satisfies z.ZodType<CreateApiTokenInput>;
