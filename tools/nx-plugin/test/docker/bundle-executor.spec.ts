import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import bundleExecutor from '../../src/executors/bundle/executor';
import { executorContext, WORKSPACE_ROOT } from '../../src/docker/executor-context';
import { FIXTURE_ROOT } from './engine-fixtures';

const outputs = join('tmp', 'nx-plugin-test', `bundle-${process.pid}`);
const context = executorContext('hello-fixture', FIXTURE_ROOT, 'bundle');

function runBundle(outputPath: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--enable-source-maps', 'main.js', ...args], {
    cwd: join(WORKSPACE_ROOT, outputPath),
    encoding: 'utf8',
    timeout: 10_000,
  });
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(WORKSPACE_ROOT, path), 'utf8')) as Record<string, unknown>;
}

afterAll(() => rmSync(join(WORKSPACE_ROOT, outputs), { recursive: true, force: true }));

describe('bundle executor', () => {
  it('inlines everything it can: no node_modules, an empty pruned package.json, a runnable main.js', async () => {
    const outputPath = join(outputs, 'inlined');
    expect(await bundleExecutor({ outputPath }, context)).toEqual({ success: true });

    // main.js.LEGAL.txt holds the inlined packages' license comments, when they have any.
    const files = readdirSync(join(WORKSPACE_ROOT, outputPath)).filter(
      (file) => !file.endsWith('.LEGAL.txt'),
    );
    expect(files.sort()).toEqual([
      'config-schema.json',
      'main.js',
      'main.js.map',
      'package-lock.json',
      'package.json',
    ]);
    expect(readJson(join(outputPath, 'package.json'))).toEqual({
      name: '@ittd/hello-fixture',
      version: '1.2.3',
      private: true,
      type: 'commonjs',
      main: 'main.js',
      dependencies: {},
    });
    expect(readJson(join(outputPath, 'config-schema.json'))).toHaveProperty('PORT');
    expect(runBundle(outputPath, 'pg-version').trim()).toBe('pg ok');
    // import.meta.url still names the file in the CommonJS bundle.
    expect(JSON.parse(runBundle(outputPath, 'whoami')).file).toBe(
      join(WORKSPACE_ROOT, outputPath, 'main.js'),
    );
  });

  it('ships an external with its production closure at the root lockfile versions', async () => {
    const outputPath = join(outputs, 'external-pg');
    expect(await bundleExecutor({ outputPath, external: ['pg'], minify: false }, context)).toEqual({
      success: true,
    });

    const rootLock = readJson('package-lock.json') as { packages: Record<string, { version: string }> };
    const pkg = readJson(join(outputPath, 'package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ pg: rootLock.packages['node_modules/pg'].version });

    const lock = readJson(join(outputPath, 'package-lock.json')) as {
      packages: Record<string, { version?: string }>;
    };
    const locations = Object.keys(lock.packages).filter((location) => location !== '');
    expect(locations).toContain('node_modules/pg-pool');
    expect(locations).toContain('node_modules/pg-protocol');
    expect(locations).not.toContain('node_modules/safe-stable-stringify');
    for (const location of locations) {
      expect(lock.packages[location].version).toBe(rootLock.packages[location].version);
      expect(existsSync(join(WORKSPACE_ROOT, outputPath, location, 'package.json'))).toBe(true);
    }
    expect(readdirSync(join(WORKSPACE_ROOT, outputPath, 'node_modules')).sort()).toEqual(
      locations.map((location) => location.split('/')[1]).sort(),
    );
    // The bundle loads pg from its own node_modules, not from the workspace's.
    expect(readFileSync(join(WORKSPACE_ROOT, outputPath, 'main.js'), 'utf8')).toMatch(/require\("pg"\)/);
    expect(runBundle(outputPath, 'pg-version').trim()).toBe('pg ok');
  });

  it.each(['.', FIXTURE_ROOT, 'tools', '../elsewhere'])(
    'refuses to empty %s as its output folder',
    async (outputPath) => {
      expect(await bundleExecutor({ outputPath }, context)).toEqual({ success: false });
      expect(existsSync(join(WORKSPACE_ROOT, FIXTURE_ROOT, 'src/main.ts'))).toBe(true);
    },
  );

  it('fails with the reason when the entry point does not compile', async () => {
    const result = await bundleExecutor(
      { outputPath: join(outputs, 'broken'), main: `${FIXTURE_ROOT}/missing.ts` },
      context,
    );
    expect(result).toEqual({ success: false });
  });
});
