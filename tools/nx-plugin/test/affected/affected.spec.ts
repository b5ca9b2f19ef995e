import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot } from '@nx/devkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `nx affected` on a real git history: a clone of the repository's HEAD in a temp dir (sharing the root
 * node_modules through a symlink), with a second minimal service so "every service" means more than one.
 */
const tmp = mkdtempSync(join(tmpdir(), 'affected-'));
const clone = join(tmp, 'clone');
const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_CACHE_DIRECTORY: join(tmp, 'nx-cache'),
  NX_WORKSPACE_DATA_DIRECTORY: join(tmp, 'nx-workspace-data'),
};

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=test@ittd.dev', '-c', 'user.name=test', ...args], {
    cwd: clone,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function commitChange(file: string, message: string): void {
  appendFileSync(join(clone, file), `\n// ${message}\n`);
  git('add', '--', file);
  git('commit', '-q', '-m', message);
}

function affectedDockerBuilds(): string[] {
  const out = execFileSync(
    join(clone, 'node_modules', '.bin', 'nx'),
    ['show', 'projects', '--affected', '-t', 'docker-build', '--base=HEAD~1', '--head=HEAD', '--json'],
    { cwd: clone, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return (JSON.parse(out) as string[]).sort();
}

/** Every project with a service.json: the projects `docker-build` exists for. */
function services(): string[] {
  return readdirSync(join(clone, 'apps'))
    .filter((name) => existsSync(join(clone, 'apps', name, 'service.json')))
    .sort();
}

function addMinimalService(name: string): void {
  const root = join(clone, 'apps', name);
  mkdirSync(join(root, 'src'), { recursive: true });
  const packageJson = {
    name: `@ittd/${name}`,
    version: '0.0.0',
    private: true,
    dependencies: { '@ittd/platform': '*' },
    nx: { name, tags: ['type:app'] },
  };
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  writeFileSync(
    join(root, 'service.json'),
    JSON.stringify({ processes: { web: { args: ['serve'], port: 3999 } } }),
  );
  writeFileSync(
    join(root, 'src', 'main.ts'),
    "import { runService } from '@ittd/platform';\n\nvoid runService;\n",
  );
  git('add', '--', `apps/${name}`);
  git('commit', '-q', '-m', `add ${name}`);
}

beforeAll(() => {
  execFileSync('git', ['clone', '-q', workspaceRoot, clone], { stdio: 'ignore' });
  symlinkSync(join(workspaceRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
  if (services().length < 2) addMinimalService('pinger');
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('nx affected -t docker-build', () => {
  it('a change in apps/applets only affects applets', () => {
    commitChange('apps/applets/src/main.ts', 'touch applets');
    expect(affectedDockerBuilds()).toEqual(['applets']);
  });

  it('a change in libs/platform affects every service', () => {
    commitChange('libs/platform/src/index.ts', 'touch platform');
    const all = services();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(affectedDockerBuilds()).toEqual(all);
  });
});
