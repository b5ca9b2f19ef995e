import { join } from 'node:path';
import { createProjectGraphAsync, workspaceRoot, type ProjectGraph, type Tree } from '@nx/devkit';
import { format, resolveConfig } from 'prettier';
import { withPendingServices } from '../../ci/ci-projects';
import { buildWorkflows, CI_GENERATOR_COMMAND, GENERATED_HEADER, WORKFLOWS_DIR } from '../../ci/workflows';

/** Options of `nx g @ittd/nx-plugin:ci` (see schema.json). */
export interface CiGeneratorOptions {
  /** Write nothing; throw naming every workflow that differs from what would be written. */
  check?: boolean;
}

/** A workflow that differs from what the generator writes now, and how. */
export interface StaleWorkflow {
  path: string;
  reason: string;
}

function firstDifference(current: string, wanted: string): string {
  const a = current.split('\n');
  const b = wanted.split('\n');
  const line = a.findIndex((text, index) => text !== b[index]);
  const at = line === -1 ? a.length : line;
  return `differs from line ${at + 1} (has ${JSON.stringify(a[at] ?? '<end of file>')}, expected ${JSON.stringify(b[at] ?? '<end of file>')})`;
}

/**
 * Brings `.github/workflows` in line with the project graph: writes each workflow that differs (formatted
 * by prettier with the workspace's config, so `prettier --check` agrees), deletes the generated ones
 * (recognised by their header) no longer wanted, and returns what differed. With `check`, changes nothing.
 *
 * @example
 * await syncWorkflows(tree, graph, {}); // [{ path: '.github/workflows/billing.yml', reason: 'missing' }]
 */
export async function syncWorkflows(
  tree: Tree,
  graph: Pick<ProjectGraph, 'nodes' | 'dependencies'>,
  options: CiGeneratorOptions,
): Promise<StaleWorkflow[]> {
  const stale: StaleWorkflow[] = [];
  const wanted = new Set<string>();
  for (const file of buildWorkflows(withPendingServices(tree, graph))) {
    wanted.add(file.path);
    const config = (await resolveConfig(join(workspaceRoot, file.path))) ?? {};
    const content = await format(file.content, { ...config, filepath: file.path });
    const current = tree.exists(file.path) ? tree.read(file.path, 'utf-8') : null;
    if (current === content) continue;
    stale.push({ path: file.path, reason: current === null ? 'missing' : firstDifference(current, content) });
    if (!options.check) tree.write(file.path, content);
  }
  const existing = tree.exists(WORKFLOWS_DIR) ? tree.children(WORKFLOWS_DIR).sort() : [];
  for (const name of existing) {
    const path = `${WORKFLOWS_DIR}/${name}`;
    if (wanted.has(path) || !tree.isFile(path)) continue;
    if (!(tree.read(path, 'utf-8') ?? '').startsWith(GENERATED_HEADER)) continue;
    stale.push({ path, reason: 'generated for a project that is no longer a service or is gone' });
    if (!options.check) tree.delete(path);
  }
  return stale;
}

/**
 * `nx g @ittd/nx-plugin:ci [--check]`: one GitHub Actions workflow per service and one for the
 * workspace's libraries and tools, from the Nx project graph (see `src/ci/workflows.ts` for what each
 * pipeline does). `--check` is the staleness check `npm test` runs: it fails naming each workflow that
 * differs and how to fix it.
 *
 * @example
 * // npx nx g @ittd/nx-plugin:ci
 * // npx nx g @ittd/nx-plugin:ci --check   # fails: ".github/workflows/applets.yml differs from line 40 ..."
 */
export default async function ciGenerator(tree: Tree, options: CiGeneratorOptions = {}): Promise<void> {
  const graph = await createProjectGraphAsync({ exitOnError: true });
  const stale = await syncWorkflows(tree, graph, options);
  if (options.check && stale.length > 0) {
    throw new Error(
      `GitHub Actions workflows are stale:\n${stale.map((s) => `- ${s.path}: ${s.reason}`).join('\n')}\n` +
        `Re-run \`${CI_GENERATOR_COMMAND}\` and commit the result.`,
    );
  }
}
