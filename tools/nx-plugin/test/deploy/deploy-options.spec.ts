import { readFileSync } from 'node:fs';
import { combineOptionsForExecutor } from 'nx/src/utils/params.js';
import { describe, expect, it } from 'vitest';
import { type DeployOptions, resolveDeployOptions } from '../../src/executors/deploy/deploy-options';

const schema = JSON.parse(
  readFileSync(new URL('../../src/executors/deploy/schema.json', import.meta.url), 'utf8'),
) as Parameters<typeof combineOptionsForExecutor>[3];

/** What Nx makes of the command-line options of `nx deploy <svc> ...` (yargs output, then the schema check). */
function nxOptions(commandLine: Parameters<typeof combineOptionsForExecutor>[0]): DeployOptions {
  return combineOptionsForExecutor(commandLine, '', { options: {} }, schema, null, null) as DeployOptions;
}

describe('deploy options', () => {
  it('--no-wait (Nx: wait=false) passes the schema and submits without waiting, as --noWait does', () => {
    const negated = nxOptions({ wait: false });
    expect(resolveDeployOptions(negated, {}).wait).toBe(false);
    expect(resolveDeployOptions(nxOptions({ noWait: true }), {}).wait).toBe(false);
    expect(resolveDeployOptions(nxOptions({}), {}).wait).toBe(true);
  });

  it('still refuses an option the schema does not know, naming it', () => {
    expect(() => nxOptions({ nowait: true })).toThrow(/nowait/);
  });
});
