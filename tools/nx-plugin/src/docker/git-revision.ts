import { execFileSync } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GitRevision } from './image-spec';

function git(workspaceRoot: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: workspaceRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * HEAD's sha and whether the working tree differs from it (tracked changes or untracked, non-ignored
 * files). Outside a git checkout: `{ sha: 'unknown', dirty: true }`, so the tag still names the content.
 *
 * @example
 * readGitRevision('/work/main'); // { sha: '8e7408b...', dirty: false }
 */
export function readGitRevision(workspaceRoot: string): GitRevision {
  const sha = git(workspaceRoot, ['rev-parse', 'HEAD']);
  if (!sha) return { sha: 'unknown', dirty: true };
  return { sha, dirty: (git(workspaceRoot, ['status', '--porcelain']) ?? '') !== '' };
}

/**
 * The OCI `source` label: ITTD_SOURCE_URL, else the `origin` remote without credentials
 * (`https://user:token@host/x` -> `https://host/x`), else the workspace as a file URL.
 *
 * @example
 * readSourceUrl('/work/main'); // 'https://github.com/ittd/ittd.git'
 */
export function readSourceUrl(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.ITTD_SOURCE_URL) return env.ITTD_SOURCE_URL;
  const origin = git(workspaceRoot, ['config', '--get', 'remote.origin.url']);
  if (!origin) return pathToFileURL(workspaceRoot).href;
  try {
    const url = new URL(origin);
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    // A clone of a local folder has a path as its origin: give it as a file URL like the no-remote case.
    if (isAbsolute(origin)) return pathToFileURL(origin).href;
    return origin; // scp-like `git@host:org/repo.git` carries no secret
  }
}
