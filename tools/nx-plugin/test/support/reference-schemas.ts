import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';
import { workspaceRoot } from '@nx/devkit';

/**
 * The upstream Marathon/Metronome schemas in `../shared/reference` (next to the repository; the nearest
 * `shared/reference` above it, so a checkout one level deeper, a git worktree, finds it too), compiled with
 * Ajv in draft-04 mode as they are written. Tests use them as the contract a Mesos cluster would enforce.
 */
export const REFERENCE_DIR = findReferenceDir(dirname(workspaceRoot));

function findReferenceDir(folder: string): string {
  const candidate = join(folder, 'shared', 'reference');
  if (existsSync(candidate) || dirname(folder) === folder) return candidate;
  return findReferenceDir(dirname(folder));
}

function compile(relativePath: string): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(REFERENCE_DIR, relativePath), 'utf8')) as Record<
    string,
    unknown
  >;
  // The files declare "http://json-schema.org/schema#"; they are draft-04, which this Ajv speaks natively.
  const { $schema: _declared, ...body } = schema;
  // validateSchema: false because Metronome's jobspec has `"required": []`, which draft-04's meta-schema
  // forbids but Metronome's own validator accepts; unicodeRegExp: false because its patterns escape `\-`,
  // legal in Java and non-unicode JS regexps. The schemas are applied as upstream wrote them.
  const ajv = new AjvDraft04({ allErrors: true, strict: false, validateSchema: false, unicodeRegExp: false });
  ajv.addFormat('date-time', (value: string) => !Number.isNaN(Date.parse(value)));
  return ajv.compile(body);
}

/** Returns the validation errors of `value` (empty when it is valid), one readable line each. */
export type Validator = (value: unknown) => string[];

function validator(relativePath: string): Validator {
  const validate = compile(relativePath);
  return (value) =>
    validate(value)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

/** Marathon's AppDefinition.json. */
export const validateMarathonApp = validator('marathon/AppDefinition.json');
/** Metronome's jobspec.schema.json. */
export const validateMetronomeJob = validator('metronome/jobspec.schema.json');
/** Metronome's schedulespec.schema.json. */
export const validateMetronomeSchedule = validator('metronome/schedulespec.schema.json');
