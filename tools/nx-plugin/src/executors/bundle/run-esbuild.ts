import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import type { ResolvedBundleOptions } from './bundle-options';

/**
 * One esbuild pass: the service and all it imports into a single CommonJS `main.js` for Node 24, with a
 * linked source map (no sources content: the map only has to turn stack traces into file:line). ESM-only
 * idioms keep working in the CommonJS output: `import.meta.url`, `import.meta.dirname` and
 * `import.meta.filename` point at main.js.
 *
 * @example
 * const metafile = await runEsbuild(options, ['pg-native']);
 */
export async function runEsbuild(
  options: ResolvedBundleOptions,
  external: readonly string[],
): Promise<Metafile> {
  const result = await build({
    absWorkingDir: options.workspaceRoot,
    entryPoints: [options.main],
    outfile: join(options.outputPath, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    tsconfig: options.tsConfig,
    external: [...external],
    sourcemap: 'linked',
    sourcesContent: false,
    minify: options.minify,
    keepNames: true,
    legalComments: 'external',
    metafile: true,
    logLevel: 'warning',
    banner: { js: 'const __ittdImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: {
      'import.meta.url': '__ittdImportMetaUrl',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
  });
  return result.metafile;
}
