import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';

/**
 * Who deploys, for the record: the CI actor (`GITHUB_ACTOR`, `GITLAB_USER_LOGIN`, `BUILDKITE_BUILD_CREATOR`),
 * else the git user of the workspace (`name <email>`), else the OS user.
 *
 * @example
 * deployActor('/repo', { GITHUB_ACTOR: 'octocat' }); // 'octocat (CI)'
 */
export function deployActor(
  workspaceRoot: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const ci = env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || env.BUILDKITE_BUILD_CREATOR;
  if (ci) return `${ci} (CI)`;
  const git = (key: string) => {
    try {
      return execFileSync('git', ['config', key], {
        cwd: workspaceRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return '';
    }
  };
  const name = git('user.name');
  const email = git('user.email');
  if (name || email) return [name, email && `<${email}>`].filter(Boolean).join(' ');
  return userInfo().username;
}
