import type { z } from 'zod';
import { configFieldRegistry, type ConfigFieldMeta } from './config-field';

/** One env var of a service, as `describe-config` prints it (a secret's default is never shown). */
export interface ConfigFieldDescription {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  secret: boolean;
  description?: string;
}

/** Any zod object schema whose keys are env var names. */
export type ConfigSchema = z.ZodObject<z.ZodRawShape>;

interface ZodDefLike {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: readonly z.ZodType[];
  entries?: Record<string, string | number>;
}

function defOf(schema: z.ZodType): ZodDefLike {
  return schema._zod.def as unknown as ZodDefLike;
}

function typeName(schema: z.ZodType): string {
  const def = defOf(schema);
  if (def.type === 'pipe' && def.in && def.out) {
    // A transform's output has no useful name; the input then says what to write in the env var.
    return defOf(def.out).type === 'transform' ? typeName(def.in) : typeName(def.out);
  }
  if (def.type === 'enum' && def.entries) return `enum(${Object.values(def.entries).join('|')})`;
  return def.type;
}

/**
 * Walks a field's wrappers (default, optional, nullable, pipe) collecting the metadata and the default,
 * so `configField(...)` may sit on any layer.
 */
function describeField(name: string, schema: z.ZodType): ConfigFieldDescription {
  let meta: ConfigFieldMeta = {};
  let required = true;
  let defaultValue: unknown;
  let current: z.ZodType | undefined = schema;
  let inner: z.ZodType = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    meta = { ...configFieldRegistry.get(current), ...meta };
    inner = current;
    const def = defOf(current);
    if (def.type === 'default' || def.type === 'prefault') {
      required = false;
      defaultValue = def.defaultValue;
    } else if (def.type === 'optional') {
      required = false;
    } else if (def.type !== 'nullable' && def.type !== 'readonly') {
      break;
    }
    current = def.innerType;
  }
  const secret = meta.secret === true;
  const description: ConfigFieldDescription = { name, type: typeName(inner), required, secret };
  if (defaultValue !== undefined) description.default = secret ? '[redacted]' : defaultValue;
  if (meta.description) description.description = meta.description;
  return description;
}

/**
 * Describes every env var of a config schema (name, type, required, default, secret, description), for
 * `describe-config` and deploy tooling. Reads no env. Each `name` may also be given as `<name>_FILE`, the
 * path of a file holding the value (Docker secrets; read by `parseConfig`), which is not listed separately.
 *
 * @example
 * describeConfig(z.object({ ...httpConfig }));
 * // [{ name: 'PORT', type: 'number', required: false, default: 3000, secret: false, description: '...' }, ...]
 */
export function describeConfig(schema: ConfigSchema): ConfigFieldDescription[] {
  return Object.entries(schema.shape).map(([name, field]) => describeField(name, field as z.ZodType));
}

/**
 * The names of the fields marked secret: the redaction list for logs and config reports.
 *
 * @example
 * secretKeys(z.object({ ...databaseConfig })); // ['DATABASE_URL']
 */
export function secretKeys(schema: ConfigSchema): string[] {
  return describeConfig(schema)
    .filter((field) => field.secret)
    .map((field) => field.name);
}
