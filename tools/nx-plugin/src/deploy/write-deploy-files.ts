import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DeployFile } from './deploy-files';

/**
 * Replaces the output folders with exactly the given files (a removed process or job leaves no stale
 * manifest behind), as pretty JSON with a trailing newline.
 *
 * @example
 * writeDeployFiles('/repo', ['dist/deploy/applets/marathon'], [{ path: 'dist/deploy/applets/marathon/web.json', content: app }]);
 */
export function writeDeployFiles(
  workspaceRoot: string,
  folders: readonly string[],
  files: readonly DeployFile[],
): void {
  for (const folder of folders) rmSync(join(workspaceRoot, folder), { recursive: true, force: true });
  for (const folder of folders) mkdirSync(join(workspaceRoot, folder), { recursive: true });
  for (const file of files) {
    const path = join(workspaceRoot, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(file.content, null, 2)}\n`);
  }
}
