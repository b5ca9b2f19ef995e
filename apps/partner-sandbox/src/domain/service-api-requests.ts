import { text, wellFormedJson } from '@ittd/platform';
import { z } from 'zod';

/** A step field value: a string or a Location (IFTTT Service API `StepFields`). */
const stepFieldValue = z.union([text().max(10_000), z.looseObject({ lat: z.number(), lng: z.number() })]);

/** `StepFields`: field slug to value. */
const stepFields = z.record(text().min(1).max(255), stepFieldValue);

/** `User`: the IFTTT user the call is for; unknown keys are ignored. */
const user = z.looseObject({ timezone: text().max(255) });

/** `IftttSource`. */
const iftttSource = z.looseObject({ id: text().max(255), url: text().max(2048) });

/**
 * `TriggerCheckRequest` (Service API): `trigger_identity`, `triggerFields`, `user`, optional `limit` (default
 * 50, 0 answers `[]`) and `ifttt_source`. Unknown keys are ignored, as IFTTT's endpoint tests require; every
 * string must be well-formed (the platform's `text()`).
 */
export const triggerCheckRequest = z.object({
  trigger_identity: text().min(1).max(255),
  triggerFields: stepFields,
  user,
  limit: z.number().int().min(0).max(1_000_000).default(50),
  ifttt_source: iftttSource.optional(),
});

/**
 * `ActionRunRequest`: `actionFields`, `user`, optional `ifttt_source`; unknown keys are ignored. The whole
 * body must also be well-formed JSON (kept in `jsonb` as received).
 */
export const actionRunRequest = wellFormedJson.pipe(
  z.looseObject({ actionFields: stepFields, user, ifttt_source: iftttSource.optional() }),
);

/** `ValidateFieldRequest`: `{ value }`. */
export const validateFieldRequest = z.object({ value: text().max(10_000) });

/** `ValidateFieldsRequest`: `{ values: { slug: value } }`. */
export const validateFieldsRequest = z.object({
  values: z.record(text().min(1).max(255), text().max(10_000)),
});

/** The most events a trigger answers, whatever `limit` asks (the Service API lets a partner send fewer). */
export const MAX_EVENTS = 500;
