import { z } from 'zod';
import { decimalInteger } from '../validation/decimal-integer';

/** What a config field says about itself beyond its zod type: shown by `describe-config`, used for redaction. */
export interface ConfigFieldMeta {
  /** One line for operators: what the setting changes. */
  description?: string;
  /** A secret's value is never printed: not in config errors, not in logs, not in `describe-config`. */
  secret?: boolean;
}

/**
 * Holds the metadata of config fields. A zod registry (not `.meta()`), so the metadata stays typed and
 * separate from zod's global registry.
 */
export const configFieldRegistry = z.registry<ConfigFieldMeta>();

/**
 * Attaches a description (and optionally `secret: true`) to a config field and returns the same schema.
 * Call it on the outermost schema (after `.default()`/`.optional()`).
 *
 * @example
 * const schema = z.object({
 *   API_TOKEN: configField(z.string().min(1), { secret: true, description: 'token for the partner API' }),
 * });
 */
export function configField<T extends z.ZodType>(schema: T, meta: ConfigFieldMeta): T {
  configFieldRegistry.add(schema, meta);
  return schema;
}

/**
 * Shorthand for a required secret string field.
 *
 * @example
 * const schema = z.object({ WEBHOOK_SECRET: secretField('HMAC key for incoming webhooks') });
 */
export function secretField(description: string): z.ZodString {
  return configField(z.string().min(1, { error: 'required, empty' }), { description, secret: true });
}

/**
 * An integer env var in `[min, max]`, parsed from plain decimal digits (the platform's one number rule,
 * {@link decimalInteger}); it must also be a safe integer (at most 2^53 - 1 in size). Anything else is a config
 * problem whose message names the range, so the report reads `PORT: expected an integer 1-65535, got "0x50"`.
 * Blank values never reach it: `parseConfig` treats them as unset.
 *
 * @example
 * const schema = z.object({ WORKERS: intField({ min: 1, max: 64 }).default(4) });
 * // WORKERS=8 -> 8; WORKERS=0x8, 8.0, 1e1, +8 -> "expected an integer 1-64"
 */
export function intField(range: { min: number; max: number }): z.ZodCodec<z.ZodString, z.ZodInt> {
  return decimalInteger(range);
}

/** The words a boolean env var may be, in any letter case (exactly what the README promises). */
const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/**
 * A boolean env var: true/1/yes/on or false/0/no/off, in any letter case (zod's `stringbool` with exactly
 * these words; its default also takes y/n and enabled/disabled). Anything else is a config problem.
 *
 * @example
 * const schema = z.object({ MIGRATE_ON_START: boolField().default(true) });
 * // MIGRATE_ON_START=off -> false; MIGRATE_ON_START=nope -> "expected true or false (also 1/0, yes/no, on/off)"
 */
export function boolField(): z.ZodCodec<z.ZodString, z.ZodBoolean> {
  return z.stringbool({
    truthy: TRUE_WORDS,
    falsy: FALSE_WORDS,
    case: 'insensitive',
    error: 'expected true or false (also 1/0, yes/no, on/off)',
  });
}
