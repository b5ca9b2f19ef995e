import { z } from 'zod';

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
 * An integer env var in `[min, max]`, parsed from its string. The error message names the range, so the
 * config report reads `PORT: expected an integer 1-65535, got "abc"`.
 *
 * @example
 * const schema = z.object({ WORKERS: intField({ min: 1, max: 64 }).default(4) });
 */
export function intField({ min, max }: { min: number; max: number }): z.ZodCoercedNumber<unknown> {
  const error = `expected an integer ${min}-${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/**
 * A boolean env var: accepts true/false, 1/0, yes/no, on/off (zod's `stringbool`).
 *
 * @example
 * const schema = z.object({ MIGRATE_ON_START: boolField().default(true) });
 */
export function boolField(): z.ZodCodec<z.ZodString, z.ZodBoolean> {
  return z.stringbool({ error: 'expected true or false' });
}
