import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/**
 * The IFTTT Service API as published upstream (see ../shared/reference/README.md): the nearest
 * `shared/reference/ifttt/service-api.yaml` above this folder, so a checkout one level deeper (a git
 * worktree) finds it too.
 */
export const SERVICE_API_PATH = findUpwards('shared/reference/ifttt/service-api.yaml');

function findUpwards(relativePath: string): string {
  for (let folder = new URL('.', import.meta.url); ; folder = new URL('..', folder)) {
    const candidate = fileURLToPath(new URL(relativePath, folder));
    if (existsSync(candidate)) return candidate;
    if (folder.pathname === '/') throw new Error(`no ${relativePath} above ${import.meta.url}`);
  }
}

interface OpenApiDocument {
  components: { schemas: Record<string, { additionalProperties?: Record<string, unknown> }> };
}

/**
 * How the known defect of the published file is patched in memory (../shared/reference/README.md: it types
 * step field values and ingredients as `object`, while its own descriptions say "a string or a Location"):
 *
 * - `'string-or-object'` (default): those values must be a string or an object, as the README asks; for
 *   `StepFields`, `QueryFields`, `TriggerEvent` and `QueryRow`.
 * - `'any'`: the type of `StepFields` and `TriggerEvent` values is dropped altogether, so a test double can
 *   hand the engine any JSON there (the fake partner's malformed-ingredient tests).
 */
export type ValuePatch = 'string-or-object' | 'any';

/** Validators compiled from the upstream OpenAPI file; see {@link serviceApiValidators}. */
export interface ServiceApiValidators {
  /** `TriggerCheckRequest`. */
  request: ValidateFunction;
  /** `TriggerCheckResponse`. */
  response: ValidateFunction;
  /** The validator of any schema under `components.schemas` by name; throws for an unknown name. */
  compile: (name: string) => ValidateFunction;
}

/**
 * Validators of the Service API's schemas, compiled with Ajv (all errors, formats not checked) from the
 * upstream OpenAPI file, with its one known defect patched in memory (see {@link ValuePatch}); the rest of
 * the file is used as published.
 *
 * @throws Error when the file is not found above this folder, or `compile` gets a name the file lacks.
 * @example
 *   const { compile } = serviceApiValidators();
 *   const validError = compile('ErrorResponse');
 *   validError({ errors: [{ status: 'SKIP', message: 'nothing to do' }] }); // true
 */
export function serviceApiValidators(options: { values?: ValuePatch } = {}): ServiceApiValidators {
  const document = parse(readFileSync(SERVICE_API_PATH, 'utf8')) as OpenApiDocument;
  const schemas = document.components.schemas;
  if (options.values === 'any') {
    for (const name of ['StepFields', 'TriggerEvent']) delete schemas[name].additionalProperties?.type;
  } else {
    for (const name of ['StepFields', 'QueryFields', 'TriggerEvent', 'QueryRow']) {
      const values = schemas[name].additionalProperties;
      if (values) values.type = ['string', 'object'];
    }
  }
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ components: document.components }, 'service-api');
  const compile = (name: string): ValidateFunction => {
    const validate = ajv.getSchema(`service-api#/components/schemas/${name}`);
    if (!validate) throw new Error(`no ${name} in ${SERVICE_API_PATH}`);
    return validate;
  };
  return { request: compile('TriggerCheckRequest'), response: compile('TriggerCheckResponse'), compile };
}
