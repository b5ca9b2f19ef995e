import { execFileSync } from 'node:child_process';
import { detectPackageManager, type GeneratorCallback, type Tree } from '@nx/devkit';

/** What the callback runs: npm's own lockfile update, without touching node_modules or running scripts. */
export const LOCKFILE_UPDATE_ARGS = [
  'install',
  '--package-lock-only',
  '--ignore-scripts',
  '--no-audit',
  '--no-fund',
] as const;

/**
 * A generator callback (run by Nx after the tree is flushed to disk, never on `--dry-run`) that brings
 * package-lock.json up to date with the workspace's package.json files, so `npm ci` on a clean clone accepts
 * what the generator made. The lockfile lists every workspace package (`apps/<svc>`, `node_modules/@ittd/<svc>`
 * as a link), so a generator that adds one must update it. Like `installPackagesTask` of `@nx/devkit`, but
 * `--package-lock-only`: node_modules is left as it is (it may be shared or read-only) and no install
 * script runs. Only npm is supported, the package manager of this workspace.
 *
 * @throws Error when the workspace does not use npm, or npm fails (its output is shown).
 * @example
 * export default async function myGenerator(tree: Tree) {
 *   tree.write('apps/x/package.json', '{"name": "@ittd/x"}');
 *   return updateLockfileTask(tree);
 * }
 */
export function updateLockfileTask(tree: Tree): GeneratorCallback {
  return () => {
    const packageManager = detectPackageManager(tree.root);
    if (packageManager !== 'npm') {
      throw new Error(`updateLockfileTask supports npm only; this workspace uses ${packageManager}`);
    }
    execFileSync('npm', [...LOCKFILE_UPDATE_ARGS], {
      cwd: tree.root,
      stdio: process.env.NX_GENERATE_QUIET === 'true' ? 'ignore' : 'inherit',
      timeout: 300_000,
    });
  };
}
