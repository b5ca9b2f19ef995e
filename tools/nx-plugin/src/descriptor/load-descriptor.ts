import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import descriptorSchema from '../../schemas/service.schema.json';
import type { ServiceDescriptor } from './service-descriptor';

/** Thrown for a service.json that is not JSON or breaks the schema; the message names the file and each path. */
export class ServiceDescriptorError extends Error {
  override readonly name = 'ServiceDescriptorError';
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile<ServiceDescriptor>(descriptorSchema);

function describeError(error: ErrorObject, all: ErrorObject[]): string {
  const at = error.instancePath || '/';
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at}: unknown property "${String(error.params.additionalProperty)}"`;
    case 'required':
      return `${at}: missing required property "${String(error.params.missingProperty)}"`;
    case 'oneOf':
      return `${at}: must be a string or a secret reference {"secret": "name"}`;
    case 'propertyNames': {
      const name = String(error.params.propertyName);
      const pattern = all.find((e) => e.keyword === 'pattern' && e.propertyName === name)?.params.pattern;
      return `${at}: bad name "${name}"${pattern ? ` (must match ${String(pattern)})` : ''}`;
    }
    default:
      return `${at}: ${error.message ?? error.keyword}`;
  }
}

/**
 * Turns Ajv's errors into one line per problem. Errors under a failed `oneOf` (one per branch) and the
 * pattern error that triggers a `propertyNames` failure are noise next to the summary line, so they are dropped.
 */
function formatErrors(errors: ErrorObject[]): string[] {
  const summaries = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'propertyNames');
  const lines = errors
    .filter(
      (e) =>
        e.keyword === 'oneOf' ||
        e.keyword === 'propertyNames' ||
        !summaries.some((s) =>
          e.schemaPath.startsWith(s.schemaPath.replace(/\/(oneOf|propertyNames)$/, '/$1/')),
        ),
    )
    .filter((e) => !(e.keyword === 'pattern' && e.propertyName !== undefined))
    .map((e) => describeError(e, errors));
  return [...new Set(lines)];
}

/**
 * Validates parsed JSON against the descriptor schema.
 *
 * @example
 * parseServiceDescriptor(JSON.parse(text), 'apps/applets/service.json');
 * // throws ServiceDescriptorError: apps/applets/service.json is not a valid service descriptor:
 * //   /processes/web/port: must be <= 65535
 */
export function parseServiceDescriptor(json: unknown, file: string): ServiceDescriptor {
  if (validate(json)) return json;
  const lines = formatErrors(validate.errors ?? []);
  throw new ServiceDescriptorError(
    `${file} is not a valid service descriptor:\n${lines.map((line) => `  ${line}`).join('\n')}`,
  );
}

/**
 * Reads and validates a service.json.
 *
 * @example
 * const descriptor = readServiceDescriptor('/repo/apps/applets/service.json');
 */
export function readServiceDescriptor(file: string): ServiceDescriptor {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ServiceDescriptorError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseServiceDescriptor(json, file);
}
