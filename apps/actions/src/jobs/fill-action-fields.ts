import { fillPlaceholders, type StepFields } from '@ittd/service-api';

/** Action fields ready to send, and the ingredient names the event did not have (filled as empty text). */
export interface FilledActionFields {
  fields: StepFields;
  missing: string[];
}

/**
 * Fills the `{{Ingredient}}` placeholders of every string action field from a trigger event's ingredients
 * (`fillPlaceholders` of @ittd/service-api); a Location value passes through unchanged.
 *
 * @example
 *   fillActionFields({ text: 'Rain in {{City}}', where: { lat: 1, lng: 2 } }, { City: 'Berlin' });
 *   // { fields: { text: 'Rain in Berlin', where: { lat: 1, lng: 2 } }, missing: [] }
 */
export function fillActionFields(
  fields: StepFields,
  ingredients: Readonly<Record<string, unknown>>,
): FilledActionFields {
  const filled: StepFields = {};
  const missing = new Set<string>();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== 'string') {
      filled[name] = value;
      continue;
    }
    const result = fillPlaceholders(value, ingredients);
    filled[name] = result.text;
    for (const each of result.missing) missing.add(each);
  }
  return { fields: filled, missing: [...missing] };
}
