/**
 * What the sandbox offers as an IFTTT service: its triggers, actions and their fields, and the samples
 * `POST /ifttt/v1/test/setup` returns. One place, so the routes, the field options and validation and the
 * samples never disagree.
 */

/** A field option as the Service API's `FieldOption` has it. */
export interface FieldOption {
  label: string;
  value: string;
}

/** The lists items belong to (`new_item`'s and `add_item`'s `list` field). `archive` is read-only. */
export const LISTS: readonly FieldOption[] = [
  { label: 'Inbox', value: 'inbox' },
  { label: 'Work', value: 'work' },
  { label: 'Home', value: 'home' },
  { label: 'Archive (read-only)', value: 'archive' },
];

/** The list adding to is skipped (`add_item` answers 400 SKIP): the `actionRecordSkipping` sample. */
export const READ_ONLY_LIST = 'archive';

/** The intervals of `clock_tick`, in minutes (its `interval_minutes` field). */
export const CLOCK_INTERVALS: readonly FieldOption[] = [1, 5, 15, 60].map((minutes) => ({
  label: minutes === 1 ? 'Every minute' : `Every ${minutes} minutes`,
  value: String(minutes),
}));

/** Trigger slugs. */
export const NEW_ITEM = 'new_item';
export const CLOCK_TICK = 'clock_tick';
/** Action slugs. */
export const RECORD_MESSAGE = 'record_message';
export const ADD_ITEM = 'add_item';

/** The options of each field that has options, by step kind, step slug and field slug. */
export const FIELD_OPTIONS: Readonly<
  Record<'triggers' | 'actions', Record<string, Record<string, readonly FieldOption[]>>>
> = {
  triggers: { [NEW_ITEM]: { list: LISTS }, [CLOCK_TICK]: { interval_minutes: CLOCK_INTERVALS } },
  actions: { [ADD_ITEM]: { list: LISTS } },
};

/** The trigger slugs the sandbox answers. */
export const TRIGGER_SLUGS: readonly string[] = [NEW_ITEM, CLOCK_TICK];
/** The action slugs the sandbox answers. */
export const ACTION_SLUGS: readonly string[] = [RECORD_MESSAGE, ADD_ITEM];

/** The list whose items are `new_item`'s sample events (setup makes sure it has at least 3). */
export const SAMPLE_LIST = 'inbox';
/** Items setup creates when the sample list has fewer than this many. */
export const SAMPLE_EVENT_COUNT = 3;

/** The test user setup returns a token of. */
export const SAMPLE_USER = { id: 'sandbox-user', name: 'Sandbox Test User' } as const;

/**
 * The `samples` of the test setup answer (IFTTT's endpoint tests): trigger fields, trigger field validations
 * (`valid` / `invalid` value per field), action fields, and the action fields that are skipped.
 */
export const SAMPLES = {
  triggers: {
    [NEW_ITEM]: { list: SAMPLE_LIST },
    [CLOCK_TICK]: { interval_minutes: '15' },
  },
  triggerFieldValidations: {
    [NEW_ITEM]: { list: { valid: SAMPLE_LIST, invalid: 'nowhere' } },
    [CLOCK_TICK]: { interval_minutes: { valid: '15', invalid: '7' } },
  },
  actions: {
    [RECORD_MESSAGE]: { message: 'Hello from the test setup' },
    [ADD_ITEM]: { list: SAMPLE_LIST, title: 'Added by the test setup' },
  },
  actionRecordSkipping: {
    [ADD_ITEM]: { list: READ_ONLY_LIST, title: 'Never added' },
  },
} as const;

/**
 * Whether `value` is one of the options of a field, with the message the validation endpoints answer.
 *
 * @example
 *   validateFieldValue('triggers', 'new_item', 'list', 'nowhere'); // { valid: false, message: '…' }
 */
export function validateFieldValue(
  kind: 'triggers' | 'actions',
  stepSlug: string,
  fieldSlug: string,
  value: string,
): { valid: boolean; message?: string } | undefined {
  const options = FIELD_OPTIONS[kind][stepSlug]?.[fieldSlug];
  if (options === undefined) return undefined;
  if (options.some((option) => option.value === value)) return { valid: true };
  return {
    valid: false,
    message: `${fieldSlug} must be one of ${options.map((option) => option.value).join(', ')}`,
  };
}
