import { getProjects, readJson, type Tree } from '@nx/devkit';
import descriptorSchema from '../../../schemas/service.schema.json';

/** The npm scope of every workspace package: a service `billing` is the package `@ittd/billing`. */
export const PACKAGE_SCOPE = '@ittd';

/**
 * The rule for a service name, shared with process and job names in service.json (`definitions.name` of
 * schemas/service.schema.json): lowercase letters, digits and single dashes, starting with a letter, at most
 * 40 characters. The name becomes a Marathon app id segment (`/ittd/<env>/<name>/<process>`: Marathon allows
 * `[a-z0-9]`, inner `-` and `.`), a Metronome job id part, the npm package `@ittd/<name>` (npm allows lowercase
 * URL-safe characters, not starting with `.` or `_`, 214 at most), a Docker repository `ittd/<name>`, a compose
 * service and, dashes as underscores, a Postgres database and a JavaScript identifier. The rule is the
 * intersection of all of them: a name it accepts is valid as each; one it refuses is invalid as at least one.
 */
export const SERVICE_NAME_RULE = {
  pattern: new RegExp(descriptorSchema.definitions.name.pattern),
  maxLength: descriptorSchema.definitions.name.maxLength,
} as const;

/** Thrown by the service generator for a name it refuses; the message lists every problem, one per line. */
export class ServiceNameError extends Error {
  override readonly name = 'ServiceNameError';
}

function ruleProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length === 0) return ['the name is empty'];
  if (/[A-Z]/.test(name)) {
    problems.push('the name has uppercase letters (npm package names and Marathon ids are lowercase)');
  }
  const others = [...new Set(name.replace(/[a-zA-Z0-9-]/g, ''))];
  if (others.length > 0) {
    problems.push(
      `the name has ${others.map((c) => JSON.stringify(c)).join(', ')} (only letters, digits and single dashes: ` +
        'a Marathon id segment has no "_", an npm name no spaces, a Postgres database name no ".")',
    );
  }
  if (!/^[a-zA-Z]/.test(name)) problems.push('the name does not start with a letter');
  if (name.endsWith('-'))
    problems.push('the name ends with a dash (a Marathon id segment ends with a letter or digit)');
  if (name.includes('--')) problems.push('the name has two dashes in a row');
  if (name.length > SERVICE_NAME_RULE.maxLength) {
    problems.push(`the name is ${name.length} characters long, at most ${SERVICE_NAME_RULE.maxLength}`);
  }
  return problems;
}

/** Every npm package name the workspace has: the root's and each project's package.json `name`. */
function workspacePackageNames(tree: Tree): Map<string, string> {
  const names = new Map<string, string>();
  const add = (file: string) => {
    if (!tree.exists(file)) return;
    const name = readJson<{ name?: string }>(tree, file).name;
    if (name) names.set(name, file);
  };
  add('package.json');
  for (const project of getProjects(tree).values()) add(`${project.root}/package.json`);
  return names;
}

/**
 * Everything wrong with `name` as the name of a new service in `tree`: the naming rule
 * ({@link SERVICE_NAME_RULE}), an existing folder `apps/<name>`, an existing Nx project of that name, an
 * existing workspace package `@ittd/<name>`. Empty when the name is fine.
 *
 * @example
 * serviceNameProblems(tree, 'Billing'); // ['the name has uppercase letters (npm package names and Marathon ids are lowercase)']
 * serviceNameProblems(tree, 'platform'); // ['a project named "platform" exists already (libs/platform)']
 */
export function serviceNameProblems(tree: Tree, name: string): string[] {
  const problems = ruleProblems(name);
  if (!SERVICE_NAME_RULE.pattern.test(name) && problems.length === 0) {
    problems.push(`the name does not match ${SERVICE_NAME_RULE.pattern.source}`);
  }
  if (problems.length > 0) return problems;
  const root = `apps/${name}`;
  if (tree.exists(root)) problems.push(`${root} exists already`);
  const project = getProjects(tree).get(name);
  if (project) problems.push(`a project named "${name}" exists already (${project.root})`);
  const packageName = `${PACKAGE_SCOPE}/${name}`;
  const packageFile = workspacePackageNames(tree).get(packageName);
  if (packageFile) problems.push(`the npm package name ${packageName} is taken (${packageFile})`);
  return problems;
}

/**
 * Throws a {@link ServiceNameError} listing every problem of `name` (see {@link serviceNameProblems}).
 *
 * @example
 * assertServiceName(tree, 'bil_ling');
 * // throws: Cannot create service "bil_ling":
 * //   - the name has "_" (only letters, digits and single dashes: ...)
 */
export function assertServiceName(tree: Tree, name: string): void {
  const problems = serviceNameProblems(tree, name);
  if (problems.length === 0) return;
  throw new ServiceNameError(
    `Cannot create service "${name}":\n` +
      `${problems.map((problem) => `  - ${problem}`).join('\n')}\n` +
      `A service name is 1-${SERVICE_NAME_RULE.maxLength} lowercase letters, digits and single dashes, ` +
      'starting with a letter, and names no existing project or package. Nothing was written.',
  );
}
