import { cpSync, existsSync } from 'node:fs';
import { join, sep } from 'node:path';

/**
 * Installs the pruned lockfile's packages by copying them from the workspace's node_modules: offline, fast,
 * and the same bytes the workspace runs with (so native addons built for this platform keep working on a
 * glibc base image of the same architecture). Each lockfile location is copied without its own nested
 * `node_modules/` (nested packages are locations of their own, copied only when in the closure) and
 * without `.bin/` links.
 *
 * @example
 * installPackageClosure('/work/main', 'dist/apps/applets', ['node_modules/pg', 'node_modules/pg-pool']);
 */
export function installPackageClosure(
  workspaceRoot: string,
  outputPath: string,
  locations: readonly string[],
): void {
  for (const location of locations) {
    const source = join(workspaceRoot, location);
    if (!existsSync(source)) {
      throw new Error(
        `${location} is in package-lock.json but not installed; run npm ci at the workspace root`,
      );
    }
    const nested = `${source}${sep}node_modules${sep}`;
    cpSync(source, join(outputPath, location), {
      recursive: true,
      dereference: true,
      filter: (path) => !`${path}${sep}`.startsWith(nested) && !path.includes(`${sep}.bin`),
    });
  }
}
