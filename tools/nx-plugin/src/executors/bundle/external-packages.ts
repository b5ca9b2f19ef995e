import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';

/**
 * Packages that are never bundled: `pg-native` is an optional native addon that `pg` requires lazily (it is
 * not installed here; when it is, it must stay a real module). Services add their own through the bundle
 * executor's `external` option (packages that read files relative to themselves).
 */
export const DEFAULT_EXTERNALS: readonly string[] = ['pg-native'];

/**
 * The npm package a module specifier or a bundled input path belongs to: the segment after the last
 * `node_modules/` (two segments for a scope), or the specifier's own package for a bare import.
 *
 * @example
 * packageNameOf('../../node_modules/@redis/client/dist/index.js'); // '@redis/client'
 * packageNameOf('pg-native');                                        // 'pg-native'
 * packageNameOf('lodash/fp');                                        // 'lodash'
 */
export function packageNameOf(specifierOrPath: string): string | undefined {
  const normalized = specifierOrPath.replace(/\\/g, '/');
  const index = normalized.lastIndexOf('node_modules/');
  if (index < 0 && (normalized.startsWith('.') || normalized.startsWith('/'))) return undefined;
  const rest = index < 0 ? normalized : normalized.slice(index + 'node_modules/'.length);
  const parts = rest.split('/');
  return rest.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The packages the bundle imports at run time instead of inlining: every external, non-builtin import in
 * esbuild's metafile (`import 'pg-native'` -> `pg-native`). These, and only these, go into the pruned
 * package.json.
 *
 * @example
 * externalPackagesOf(result.metafile); // ['pg-native']
 */
export function externalPackagesOf(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || isBuiltin(imported.path)) continue;
      const name = packageNameOf(imported.path);
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * Where the bundle's inlined third-party code comes from: package name -> directory, from the metafile's
 * inputs (paths relative to `workingDir`).
 */
export function inlinedPackagesOf(metafile: Metafile, workingDir: string): Map<string, string> {
  const packages = new Map<string, string>();
  for (const input of Object.keys(metafile.inputs)) {
    const name = packageNameOf(input);
    if (!name || !input.includes('node_modules/')) continue;
    const index = input.lastIndexOf('node_modules/');
    packages.set(name, join(workingDir, input.slice(0, index), 'node_modules', name));
  }
  return packages;
}

/**
 * Inlined packages that cannot work inlined because they load a native addon (`binding.gyp`, `gypfile`,
 * `prebuilds/` or a built `.node` file next to their package.json): the executor bundles again with these
 * external.
 *
 * @example
 * nativeAddonPackages(inlinedPackagesOf(metafile, root)); // ['bcrypt']
 */
export function nativeAddonPackages(packages: Map<string, string>): string[] {
  const native: string[] = [];
  for (const [name, dir] of packages) {
    const manifest = join(dir, 'package.json');
    const gypfile =
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { gypfile?: boolean }).gypfile === true;
    if (
      gypfile ||
      ['binding.gyp', 'prebuilds', 'build/Release'].some((entry) => existsSync(join(dir, entry)))
    ) {
      native.push(name);
    }
  }
  return native.sort();
}
