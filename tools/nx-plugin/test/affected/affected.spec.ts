import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot } from '@nx/devkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

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

/**
 * Commits apps/<name>: a service.json, a package.json listing only @ittd/platform, and a main.ts importing
 * `imports` too (npm packages the graph learns of from the import alone, as from a real service's code).
 */
function addMinimalService(name: string, imports: readonly string[] = []): void {
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
    [
      "import { runService } from '@ittd/platform';",
      ...imports.map((name, i) => `import * as imported${i} from '${name}';`),
      '',
      'void runService;',
      ...imports.map((_, i) => `void imported${i};`),
      '',
    ].join('\n'),
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

/** Sets `version` of one package in the clone's package-lock.json, nothing else (a one-line diff). */
function setLockedVersion(name: string, version: string): void {
  const path = join(clone, 'package-lock.json');
  const lock = JSON.parse(readFileSync(path, 'utf8')) as { packages: Record<string, { version?: string }> };
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry?.version) throw new Error(`${name} is not in package-lock.json`);
  entry.version = version;
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  expect(git('diff', '--numstat').trim()).toBe('1\t1\tpackage-lock.json');
}

/** The command, on the uncommitted working tree: `nx show projects --affected --base=HEAD`. */
function affectedSinceHead(...extra: string[]): string[] {
  const out = execFileSync(
    join(clone, 'node_modules', '.bin', 'nx'),
    ['show', 'projects', '--affected', '--base=HEAD', ...extra, '--json'],
    { cwd: clone, env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return (JSON.parse(out) as string[]).sort();
}

describe('a package-lock.json change affects only the projects that use the changed package', () => {
  beforeAll(() => addMinimalService('archiver', ['tar-stream']));
  afterEach(() => git('checkout', '--', 'package-lock.json'));

  it('a new prettier version (a dev tool no service uses) affects no service (nrwl/nx#15116)', () => {
    setLockedVersion('prettier', '3.10.2');
    expect(affectedSinceHead('--with-target', 'deploy')).toEqual([]);
    expect(affectedSinceHead()).toEqual(['nx-plugin']); // the only project importing prettier
  });

  it('the same bump as `npm install -D prettier@3.10.2` makes it (package.json too) still affects no service', () => {
    setLockedVersion('prettier', '3.10.2');
    const path = join(clone, 'package.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { devDependencies: Record<string, string> };
    manifest.devDependencies.prettier = '3.10.2';
    writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      expect(affectedSinceHead('--with-target', 'deploy')).toEqual([]);
    } finally {
      git('checkout', '--', 'package.json');
    }
  });

  it('a new version of a package one service bundles affects that service alone', () => {
    // archiver's package.json does not list tar-stream: the graph knows it from the import.
    setLockedVersion('tar-stream', '3.2.3');
    expect(affectedSinceHead('--with-target', 'deploy')).toEqual(['archiver']);
  });

  it('a package reached through another (safe-stable-stringify, under pino) affects the services above it', () => {
    setLockedVersion('safe-stable-stringify', '2.5.1');
    expect(affectedSinceHead('--with-target', 'deploy')).toEqual(services());
  });
});
