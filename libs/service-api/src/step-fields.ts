import { z } from 'zod';

/** The slug syntax of partner services, triggers, actions and field names in the Service API. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9_]{0,62}$/;

/** Most fields one trigger or action carries. */
export const MAX_STEP_FIELDS = 50;

/**
 * A partner service, trigger, action or field slug, as the Service API puts them in URLs.
 *
 * @example
 *   z.object({ service: slug }).parse({ service: 'weather' });
 */
export const slug = z.string().regex(SLUG_PATTERN, {
  error: 'expected a slug: lowercase letters, digits and underscores, at most 63 characters',
});

/**
 * A Location field value, as in the Service API's `Location` schema (`lat`/`lng` required).
 *
 * @example
 *   const office: LocationValue = { lat: 52.52, lng: 13.405, radius: 250 };
 */
export const location = z.strictObject({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  radius: z.number().nonnegative().optional(),
  address: z.string().optional(),
  description: z.string().optional(),
  zoom: z.number().optional(),
});

/** A Location field value (Service API `Location`). */
export type LocationValue = z.infer<typeof location>;

/**
 * Trigger or action fields: field slug -> string or Location (the Service API's `StepFields`). Action field
 * strings may hold `{{Ingredient}}` placeholders.
 *
 * @example
 *   const triggerFields: StepFields = { city: 'Berlin' };
 */
export type StepFields = Record<string, string | LocationValue>;

/**
 * Validates `StepFields`: at most {@link MAX_STEP_FIELDS}, values a string (up to 10,000 characters) or a
 * Location. Keys are checked here rather than by a record key schema so the error names the bad key and says
 * why (`trigger.fields.City: field names are slugs ...`).
 *
 * @example
 *   const body = z.strictObject({ fields: stepFields.default({}) });
 */
export const stepFields = z
  .record(
    z.string(),
    z.union([z.string().max(10_000), location], { error: 'expected a string or a location {lat, lng}' }),
  )
  .superRefine((fields, ctx) => {
    const keys = Object.keys(fields);
    if (keys.length > MAX_STEP_FIELDS)
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_STEP_FIELDS} fields` });
    for (const key of keys) {
      if (!SLUG_PATTERN.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'field names are slugs: lowercase letters, digits and underscores',
        });
      }
    }
  }) satisfies z.ZodType<StepFields>;
