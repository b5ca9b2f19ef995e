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
