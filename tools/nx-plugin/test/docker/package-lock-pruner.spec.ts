import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prunePackageLock, type PackageLock } from '../../src/executors/bundle/package-lock-pruner';
import { WORKSPACE_ROOT } from '../../src/docker/executor-context';

const root = { name: '@ittd/example', version: '1.0.0' };

const lock: PackageLock = {
  lockfileVersion: 3,
  packages: {
    '': { name: '@ittd/source', dependencies: { a: '1.0.0' } },
    'node_modules/a': { version: '1.0.0', dependencies: { b: '^2' }, optionalDependencies: { c: '1' } },
    'node_modules/a/node_modules/b': { version: '2.0.0', dev: true },
    'node_modules/b': { version: '1.0.0' },
    'node_modules/c': { version: '1.0.0', dependencies: { d: '1' } },
    'node_modules/d': { version: '1.0.0' },
    'node_modules/peer-user': { version: '1.0.0', peerDependencies: { d: '1', absent: '1' } },
    'node_modules/@ittd/platform': { resolved: 'libs/platform', link: true },
  },
};

describe('prunePackageLock', () => {
  it('keeps the closure, resolved as Node does (nested before hoisted), and recomputes flags', () => {
    const pruned = prunePackageLock(lock, ['a'], root);
    expect(pruned.dependencies).toEqual({ a: '1.0.0' });
    expect(pruned.locations).toEqual([
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/c',
      'node_modules/d',
    ]);
    expect(pruned.lock.packages['']).toEqual({ ...root, dependencies: { a: '1.0.0' } });
    expect(pruned.lock.packages['node_modules/a/node_modules/b']).toEqual({ version: '2.0.0' });
    expect(pruned.lock.packages['node_modules/c']).toMatchObject({ optional: true });
    expect(pruned.lock.packages['node_modules/d']).toMatchObject({ optional: true });
    expect(pruned.lock.packages['node_modules/b']).toBeUndefined();
  });

  it('follows installed peers and tolerates missing ones', () => {
    expect(prunePackageLock(lock, ['peer-user'], root).locations).toEqual([
      'node_modules/d',
      'node_modules/peer-user',
    ]);
  });

  it('reports requested packages that are not installed instead of failing (optional imports)', () => {
    expect(prunePackageLock(lock, ['pg-native', 'a'], root).missing).toEqual(['pg-native']);
  });

  it('refuses a workspace package: that code is bundled', () => {
    expect(() => prunePackageLock(lock, ['@ittd/platform'], root)).toThrow(/workspace package/);
  });

  it('prunes the real root lockfile to pg and its production dependencies', () => {
    const real = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package-lock.json'), 'utf8')) as PackageLock;
    const pruned = prunePackageLock(real, ['pg'], root);
    expect(pruned.locations).toContain('node_modules/pg-protocol');
    expect(pruned.locations).not.toContain('node_modules/express');
    for (const location of pruned.locations) expect(pruned.lock.packages[location].dev).toBeUndefined();
  });
});
