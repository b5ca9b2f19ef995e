import { text } from '@ittd/platform';
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
  address: text().optional(),
  description: text().optional(),
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

/** Why a field name was refused: the Service API's slug rule. */
export const FIELD_NAME_REASON = 'field names are slugs: lowercase letters, digits and underscores';

/** One field value: a string (up to 10,000 characters, well-formed, no NUL) or a Location. */
const stepFieldValue = z.union([text().max(10_000), location], {
  error: 'expected a string or a location {lat, lng}',
});

/** A JSON object (not an array, not null). */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates `StepFields`: at most {@link MAX_STEP_FIELDS}, names slugs ({@link SLUG_PATTERN}), values a
 * string (up to 10,000 characters, following the platform's string rule `text()`: well-formed Unicode, no
 * NUL) or a Location. Every bad name and value is reported at once, each at its own path
 * (`trigger.fields.City: field names are slugs ...`, `trigger.fields.city: must be well-formed ...`).
 *
 * The names are read from the object as `JSON.parse` made it, so a `__proto__` key (an own property there)
 * is refused like any other non-slug; a `z.record` would skip it silently. The output is the input object,
 * checked, not a copy.
 *
 * @example
 *   const body = z.strictObject({ fields: stepFields.default({}) });
 *   body.safeParse(JSON.parse('{"fields":{"__proto__":"x"}}')).error?.issues[0].path; // ['fields', '__proto__']
 */
export const stepFields = z
  .custom<StepFields>(isJsonObject, { error: 'expected an object of fields' })
  .superRefine((fields, ctx) => {
    const names = Object.keys(fields);
    if (names.length > MAX_STEP_FIELDS)
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_STEP_FIELDS} fields` });
    for (const name of names) {
      if (!SLUG_PATTERN.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: FIELD_NAME_REASON });
        continue;
      }
      const value = stepFieldValue.safeParse(fields[name]);
      for (const issue of value.error?.issues ?? [])
        ctx.addIssue({ code: 'custom', path: [name, ...issue.path], message: issue.message });
    }
  }) satisfies z.ZodType<StepFields>;
