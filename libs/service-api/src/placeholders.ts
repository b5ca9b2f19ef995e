/** A well-formed ingredient name: a letter, then letters, digits or underscores (`CreatedAt`, `Temp_C`). */
const INGREDIENT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The result of parsing an action field: the ingredient names used, or why the text is malformed. */
export type PlaceholderParseResult =
  { ok: true; ingredients: string[] } | { ok: false; index: number; message: string };

/**
 * Parses the `{{Ingredient}}` placeholders of an action field value. A placeholder is `{{` + an ingredient
 * name + `}}`; an unclosed `{{`, a stray `}}` or a bad name (empty, spaces, punctuation, nested braces) is
 * rejected with the index where it starts, so the API can say what is wrong before the applet ever runs.
 *
 * @example
 *   parsePlaceholders('Rain in {{City}} at {{CreatedAt}}'); // { ok: true, ingredients: ['City', 'CreatedAt'] }
 *   parsePlaceholders('Hi {{ Name }}'); // { ok: false, index: 3, message: 'placeholder "{{ Name }}" ...' }
 */
export function parsePlaceholders(text: string): PlaceholderParseResult {
  const ingredients: string[] = [];
  let position = 0;
  while (position < text.length) {
    const open = text.indexOf('{{', position);
    const strayClose = text.indexOf('}}', position);
    if (strayClose !== -1 && (open === -1 || strayClose < open)) {
      return { ok: false, index: strayClose, message: 'unexpected "}}" without a matching "{{"' };
    }
    if (open === -1) break;
    const close = text.indexOf('}}', open + 2);
    if (close === -1) return { ok: false, index: open, message: 'unclosed "{{"' };
    const name = text.slice(open + 2, close);
    if (!INGREDIENT_NAME.test(name)) {
      return {
        ok: false,
        index: open,
        message: `placeholder "{{${name}}}" must be {{Name}}: a letter, then letters, digits or underscores`,
      };
    }
    ingredients.push(name);
    position = close + 2;
  }
  return { ok: true, ingredients };
}

/** Ingredient key as matched loosely: lower case, underscores dropped (`created_at` and `CreatedAt` meet). */
function looseKey(name: string): string {
  return name.replaceAll('_', '').toLowerCase();
}

/** A value as it goes into action field text: strings as they are, numbers and booleans as text, else JSON. */
function ingredientText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

/** Action field text with its placeholders replaced, and the ingredient names the event did not have. */
export interface FilledText {
  text: string;
  missing: string[];
}

/**
 * Fills the `{{Ingredient}}` placeholders of an action field with a trigger event's ingredients (the
 * event's keys other than `meta`, Service API `TriggerEvent`). A name matches the ingredient with the same
 * key, else the one that differs only in case and underscores (the UI's `{{CreatedAt}}` for a partner's
 * `created_at`). An ingredient the event lacks becomes empty text and is listed in `missing`. Text whose
 * placeholders do not parse ({@link parsePlaceholders}; the applets API refuses it, so only old data) is
 * returned as it is.
 *
 * @example
 *   fillPlaceholders('Rain in {{City}} at {{CreatedAt}}', { city: 'Berlin', created_at: '2026-01-01' });
 *   // { text: 'Rain in Berlin at 2026-01-01', missing: [] }
 */
export function fillPlaceholders(text: string, ingredients: Readonly<Record<string, unknown>>): FilledText {
  if (!parsePlaceholders(text).ok) return { text, missing: [] };
  const loose = new Map<string, unknown>();
  for (const [key, value] of Object.entries(ingredients)) {
    if (key !== 'meta' && !loose.has(looseKey(key))) loose.set(looseKey(key), value);
  }
  const missing: string[] = [];
  const filled = text.replace(/\{\{([A-Za-z][A-Za-z0-9_]*)\}\}/g, (_match, name: string) => {
    if (name !== 'meta' && Object.hasOwn(ingredients, name)) return ingredientText(ingredients[name]);
    const value = loose.get(looseKey(name));
    if (value === undefined) {
      missing.push(name);
      return '';
    }
    return ingredientText(value);
  });
  return { text: filled, missing };
}
