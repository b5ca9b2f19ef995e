import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';

/**
 * A throw-away workspace (a real git repo with one commit) holding one service's descriptor and, when
 * given, the bundle's config-schema.json and docker-build's image.json: what the deploy executors read.
 */
export function createDeployWorkspace(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'deploy-workspace-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), JSON.stringify(content, null, 2));
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'pipe' });
  git('init', '-q');
  git(
    '-c',
    'user.email=test@ittd.dev',
    '-c',
    'user.name=test',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'fixture',
  );
  return root;
}

/** The ExecutorContext Nx passes for `nx <target> <service>` in that workspace. */
export function executorContext(root: string, service: string): ExecutorContext {
  return {
    root,
    cwd: root,
    isVerbose: false,
    projectName: service,
    projectsConfigurations: { version: 2, projects: { [service]: { root: `apps/${service}` } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  };
}
