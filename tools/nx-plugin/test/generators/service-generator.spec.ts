import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { check, resolveConfig } from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';
import { parseServiceDescriptor } from '../../src/descriptor/load-descriptor';
import serviceGenerator from '../../src/generators/service/generator';

function treeWithApplets(): Tree {
  const tree = createTreeWithEmptyWorkspace();
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
      nx: { name: 'partner-billing', tags: ['type:app'] },
    });
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
      if (!change.path.startsWith('apps/pinger/') || !change.content) continue;
      const filepath = join(workspaceRoot, change.path);
      const options = { ...(await resolveConfig(filepath)), filepath };
      if (!(await check(change.content.toString(), options))) unformatted.push(change.path);
    }
    expect(unformatted).toEqual([]);
  });

  it('refuses a bad name and an existing folder', async () => {
    await expect(serviceGenerator(treeWithApplets(), { name: 'Billing' })).rejects.toThrow(
      'lowercase letters',
    );
    await expect(serviceGenerator(treeWithApplets(), { name: 'applets' })).rejects.toThrow(
      'apps/applets already exists',
    );
  });
});

describe('service generator (real files)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'service-generator-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('generates a service that typechecks, lints and passes its own test on the real Postgres', async () => {
    const clone = join(tmp, 'clone');
    execFileSync('git', ['clone', '-q', workspaceRoot, clone], { stdio: 'ignore' });
    symlinkSync(join(workspaceRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const run = (command: string, args: string[], cwd = join(clone, 'apps', 'pinger')) =>
      execFileSync(join(clone, 'node_modules', '.bin', command), args, {
        cwd,
        encoding: 'utf8',
        timeout: 120_000,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          NX_DAEMON: 'false',
          NX_NO_CLOUD: 'true',
          NX_TUI: 'false',
          NX_CACHE_DIRECTORY: join(tmp, 'nx-cache'),
          NX_WORKSPACE_DATA_DIRECTORY: join(tmp, 'nx-workspace-data'),
        },
      });
    // Through the CLI, so generators.json and the schema's argv default are exercised too.
    run('nx', ['g', '@ittd/nx-plugin:service', 'pinger', '--no-interactive'], clone);

    run('tsc', ['-p', 'tsconfig.json', '--noEmit']);
    run('eslint', ['.']);
    const output = run('vitest', ['run']);
    expect(output).toMatch(/4 passed/);
  });
});
