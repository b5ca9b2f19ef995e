import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import {
  resolveBundleOptions,
  type BundleExecutorOptions,
  type ResolvedBundleOptions,
} from './bundle-options';
import { describeBundleConfig } from './describe-config';
import {
  DEFAULT_EXTERNALS,
  externalPackagesOf,
  inlinedPackagesOf,
  nativeAddonPackages,
} from './external-packages';
import { installPackageClosure } from './install-package-closure';
import { prunePackageLock, type PackageLock } from './package-lock-pruner';
import { runEsbuild } from './run-esbuild';

/**
 * `nx run <svc>:bundle`: the service as one esbuild bundle plus exactly the node_modules it cannot inline,
 * ready to be the whole build context of its image (see schema.json for what is external and why).
 *
 * @example
 * // apps/applets -> dist/apps/applets/{main.js,main.js.map,package.json,package-lock.json,config-schema.json}
 * await bundleExecutor({}, context);
 */
export default async function bundleExecutor(
  options: BundleExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  try {
    const resolved = resolveBundleOptions(options, context);
    await bundle(resolved);
    return { success: true };
  } catch (error) {
    logger.error(`bundle failed: ${(error as Error).message}`);
    return { success: false };
  }
}

async function bundle(options: ResolvedBundleOptions): Promise<void> {
  rmSync(options.outputPath, { recursive: true, force: true });
  mkdirSync(options.outputPath, { recursive: true });

  let externals = [...new Set([...DEFAULT_EXTERNALS, ...options.external])];
  let metafile = await runEsbuild(options, externals);
  const native = nativeAddonPackages(inlinedPackagesOf(metafile, options.workspaceRoot));
  if (native.length > 0) {
    logger.info(`bundle: keeping native addon packages external: ${native.join(', ')}`);
    externals = [...new Set([...externals, ...native])];
    metafile = await runEsbuild(options, externals);
  }

  const manifest = JSON.parse(
    readFileSync(join(options.workspaceRoot, options.projectRoot, 'package.json'), 'utf8'),
  ) as {
    name?: string;
    version?: string;
  };
  const root = { name: manifest.name ?? options.projectName, version: manifest.version ?? '0.0.0' };
  const rootLock = JSON.parse(
    readFileSync(join(options.workspaceRoot, 'package-lock.json'), 'utf8'),
  ) as PackageLock;
  const pruned = prunePackageLock(rootLock, externalPackagesOf(metafile), root);

  const packageJson = {
    ...root,
    private: true,
    type: 'commonjs',
    main: 'main.js',
    dependencies: pruned.dependencies,
  };
  writeFileSync(join(options.outputPath, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  writeFileSync(join(options.outputPath, 'package-lock.json'), `${JSON.stringify(pruned.lock, null, 2)}\n`);
  installPackageClosure(options.workspaceRoot, options.outputPath, pruned.locations);
  if (options.describeConfig) {
    writeFileSync(join(options.outputPath, 'config-schema.json'), describeBundleConfig(options.outputPath));
  }

  const mainBytes = Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  const where = relative(options.workspaceRoot, options.outputPath);
  logger.info(
    `bundle: ${where}/main.js (+ map) ${(mainBytes / 1024 / 1024).toFixed(2)} MB; ` +
      `external: ${Object.keys(pruned.dependencies).join(', ') || 'none'}` +
      (pruned.missing.length > 0 ? `; not installed, left out: ${pruned.missing.join(', ')}` : ''),
  );
}
