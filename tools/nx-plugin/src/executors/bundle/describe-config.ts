import { execFileSync } from 'node:child_process';

/**
 * Runs the bundle's own `describe-config` command and returns its JSON, pretty-printed. The env is
 * reduced to PATH and NODE_ENV so the output does not depend on who builds (the command reads no env).
 *
 * @example
 * writeFileSync('dist/apps/applets/config-schema.json', describeBundleConfig('dist/apps/applets'));
 */
export function describeBundleConfig(outputPath: string): string {
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, ['--enable-source-maps', 'main.js', 'describe-config'], {
      cwd: outputPath,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`node main.js describe-config failed: ${stderr.trim() || (error as Error).message}`);
  }
  try {
    return `${JSON.stringify(JSON.parse(stdout), null, 2)}\n`;
  } catch {
    throw new Error(`node main.js describe-config printed no JSON: ${stdout.slice(0, 200)}`);
  }
}
