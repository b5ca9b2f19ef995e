import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { check, getFileInfo, resolveConfig } from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServiceDescriptor } from '../../src/descriptor/load-descriptor';
import { connectDocker } from '../../src/docker/docker-engine';
import serviceGenerator from '../../src/generators/service/generator';
import { serviceNameProblems, ServiceNameError } from '../../src/generators/service/service-name';
import { ensureBaseImage, LOCAL_BASE_IMAGE } from '../docker/engine-fixtures';

/** An empty workspace formatted like this one (prettier, not the empty workspace's oxfmt), with applets. */
function treeWithApplets(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  tree.delete('.oxfmtrc.json');
  tree.write('.prettierrc', readFileSync(join(workspaceRoot, '.prettierrc'), 'utf8'));
  tree.write(
    'apps/applets/service.json',
    readFileSync(join(workspaceRoot, 'apps/applets/service.json'), 'utf8'),
  );
  return tree;
}

describe('service generator (in memory)', () => {
  it('creates a service shaped like applets, on the next free port, and adds it to compose.yaml', async () => {
    const tree = treeWithApplets();
    await serviceGenerator(tree, { name: 'partner-billing', description: 'Invoices partners' });
    const root = 'apps/partner-billing';
    for (const file of [
      'package.json',
      'README.md',
      '.env.example',
      'service.json',
      'tsconfig.json',
      'eslint.config.mjs',
      'vitest.config.mts',
      'src/main.ts',
      'src/config.ts',
      'src/partner-billing-service.ts',
      'src/data/database.ts',
      'src/data/note-repository.ts',
      'src/domain/note.ts',
      'src/http/note-routes.ts',
      'migrations/index.ts',
      'migrations/0001-create-notes.ts',
      'test/note-api.spec.ts',
    ]) {
      expect(tree.exists(`${root}/${file}`), file).toBe(true);
    }
    const descriptor = parseServiceDescriptor(
      JSON.parse(tree.read(`${root}/service.json`, 'utf-8') ?? ''),
      'x',
    );
    expect(descriptor.processes.web).toMatchObject({ args: ['serve'], port: 3001 });
    expect(descriptor.env?.local?.DATABASE_URL).toBe('postgres://postgres@postgres:5432/partner_billing');
    const packageJson = JSON.parse(tree.read(`${root}/package.json`, 'utf-8') ?? '');
    expect(packageJson).toMatchObject({
      name: '@ittd/partner-billing',
      nx: { name: 'partner-billing', tags: ['type:app'], targets: { serve: { continuous: true } } },
    });
    // `nx serve partner-billing` runs it from source with .env.example, on its own port and database.
    const envExample = tree.read(`${root}/.env.example`, 'utf-8') ?? '';
    expect(envExample).toContain('PORT=3001');
    expect(envExample).toContain('DATABASE_URL=postgres://postgres@127.0.0.1:5432/partner_billing');
    expect(tree.read(`${root}/README.md`, 'utf-8')).toContain('npx nx serve partner-billing');
    expect(tree.read(`${root}/src/main.ts`, 'utf-8')).toContain('runService(partnerBillingService)');
    const compose = tree.read('compose.yaml', 'utf-8') ?? '';
    expect(compose).toContain('partner-billing-migrate:');
    expect(compose).toContain('3001:3001');
  });

  it('writes prettier-clean files', async () => {
    const tree = treeWithApplets();
    await serviceGenerator(tree, { name: 'pinger', description: 'Says "pong"' });
    const unformatted: string[] = [];
    for (const change of tree.listChanges()) {
      const generated = change.path.startsWith('apps/pinger/') || change.path === 'compose.yaml';
      if (!generated || !change.content) continue;
      const filepath = join(workspaceRoot, change.path);
      if (!(await getFileInfo(filepath)).inferredParser) continue; // .env.example: nothing prettier formats
      const options = { ...(await resolveConfig(filepath)), filepath };
      if (!(await check(change.content.toString(), options))) unformatted.push(change.path);
    }
    expect(unformatted).toEqual([]);
  });

  it.each([
    ['Billing', 'the name has uppercase letters'], // not an npm package name, nor a Marathon id
    ['bil_ling', 'the name has "_"'], // a valid npm name, not a Marathon id segment
    ['bil ling', 'the name has " "'], // neither
    ['.billing', 'the name has "."'], // npm: no leading dot
    ['9billing', 'the name does not start with a letter'], // a JavaScript identifier and a Postgres name must not
    ['-billing', 'the name does not start with a letter'],
    ['billing-', 'the name ends with a dash'], // Marathon: a segment ends with a letter or digit
    ['bill--ing', 'the name has two dashes in a row'],
    ['b'.repeat(41), 'the name is 41 characters long, at most 40'],
    ['', 'the name is empty'],
    ['applets', 'apps/applets exists already'],
    ['platform', 'a project named "platform" exists already (libs/platform)'],
    ['source', 'the npm package name @ittd/source is taken (package.json)'],
  ])('refuses %j (%s) and writes nothing', async (name, problem) => {
    const tree = treeWithApplets();
    tree.write(
      'libs/platform/package.json',
      JSON.stringify({ name: '@ittd/platform', nx: { name: 'platform' } }),
    );
    const root = JSON.parse(tree.read('package.json', 'utf-8') ?? '{}') as Record<string, unknown>;
    tree.write(
      'package.json',
      JSON.stringify({ ...root, name: '@ittd/source', workspaces: ['apps/*', 'libs/*'] }),
    );
    const before = tree.listChanges().map((change) => change.path);

    const error = await serviceGenerator(tree, { name }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ServiceNameError);
    expect((error as Error).message).toContain(
      `Cannot create service ${JSON.stringify(name)}:\n  - ${problem}`,
    );
    expect((error as Error).message).toContain('Nothing was written.');
    expect(tree.listChanges().map((change) => change.path)).toEqual(before);
  });

  it('lists every problem of a name at once', () => {
    expect(serviceNameProblems(treeWithApplets(), 'Bil_ling-')).toEqual([
      'the name has uppercase letters (npm package names and Marathon ids are lowercase)',
      expect.stringContaining('the name has "_"'),
      expect.stringContaining('the name ends with a dash'),
    ]);
  });
});

/**
 * What a new user does, on real files: in a clone of this repository's HEAD (node_modules shared through a
 * symlink), `nx g @ittd/nx-plugin:service billing` and commit; then in a clean clone of that, `npm ci` (the
 * npm cache is warm) and `nx run-many -p billing -t lint typecheck test docker-build marathon`, on the local
 * base image as `npm test` passes it (BASE_IMAGE).
 */
describe('service generator (real files)', () => {
  // Made in beforeAll, so a run that skips these tests (-t) leaves no folder behind.
  let tmp = '';
  let workspace = '';
  let clean = '';
  const images: string[] = [];
  const env = () => ({
    ...process.env,
    BASE_IMAGE: process.env.BASE_IMAGE ?? LOCAL_BASE_IMAGE,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_CACHE_DIRECTORY: join(tmp, 'nx-cache'),
    NX_WORKSPACE_DATA_DIRECTORY: join(tmp, 'nx-workspace-data'),
  });
  const run = (cwd: string, command: string, args: string[], timeout = 300_000) =>
    spawnSync(command, args, { cwd, env: env(), encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.email=test@ittd.dev', '-c', 'user.name=test', ...args], {
      cwd,
      encoding: 'utf8',
    });
  const nx = (cwd: string, ...args: string[]) => run(cwd, join(cwd, 'node_modules', '.bin', 'nx'), args);

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'service-generator-'));
    workspace = join(tmp, 'workspace');
    clean = join(tmp, 'clean-clone');
    ensureBaseImage();
    git(tmp, 'clone', '-q', workspaceRoot, workspace);
    symlinkSync(join(workspaceRoot, 'node_modules'), join(workspace, 'node_modules'), 'dir');
  });
  afterAll(async () => {
    const docker = connectDocker();
    for (const image of images)
      await docker
        .getImage(image)
        .remove()
        .catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it(
    'refuses a bad name through the CLI with the list of problems, and writes nothing',
    { timeout: 120_000 },
    () => {
      const result = nx(workspace, 'g', '@ittd/nx-plugin:service', 'Bil_ling', '--no-interactive');
      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('Cannot create service "Bil_ling":');
      expect(result.stdout + result.stderr).toContain('the name has uppercase letters');
      expect(git(workspace, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    },
  );

  it(
    'generates a service that a clean clone installs with npm ci and builds, tests and deploys',
    { timeout: 900_000 },
    () => {
      const generated = nx(workspace, 'g', '@ittd/nx-plugin:service', 'billing', '--no-interactive');
      expect(generated.status, generated.stderr).toBe(0);
      const changed = git(workspace, 'status', '--porcelain', '--untracked-files=all')
        .trimEnd()
        .split('\n')
        .map((line) => line.slice(3));
      expect(changed.filter((file) => !file.startsWith('apps/billing/')).sort()).toEqual([
        '.github/workflows/billing.yml',
        'compose.yaml',
        'package-lock.json',
      ]);
      const lock = JSON.parse(readFileSync(join(workspace, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { name?: string; resolved?: string; link?: boolean }>;
      };
      expect(lock.packages['apps/billing']).toMatchObject({ name: '@ittd/billing' });
      expect(lock.packages['node_modules/@ittd/billing']).toEqual({ resolved: 'apps/billing', link: true });
      git(
        workspace,
        'add',
        '--',
        'apps/billing',
        'compose.yaml',
        'package-lock.json',
        '.github/workflows/billing.yml',
      );
      git(workspace, 'commit', '-q', '-m', 'add billing');

      git(tmp, 'clone', '-q', workspace, clean);
      const install = run(clean, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], 600_000);
      expect(install.status, install.stderr).toBe(0);

      const targets = ['lint', 'typecheck', 'test', 'docker-build', 'marathon'];
      const checked = nx(clean, 'run-many', '-p', 'billing', '-t', ...targets, '--output-style=stream');
      const record = join(clean, 'dist', 'docker', 'billing', 'image.json');
      if (existsSync(record))
        images.push(...(JSON.parse(readFileSync(record, 'utf8')) as { tags: string[] }).tags);
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      expect(checked.stdout).toMatch(/4 passed/);
      const web = JSON.parse(readFileSync(join(clean, 'dist/deploy/billing/marathon/web.json'), 'utf8')) as {
        id: string;
        container: { docker: { image: string } };
      };
      expect(web.id).toBe('/ittd/production/billing/web');
      expect(images).toContain(web.container.docker.image);
    },
  );
});
