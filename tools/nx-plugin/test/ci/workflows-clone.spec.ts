import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { workspaceRoot } from '@nx/devkit';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_COMMIT_SHA, WORKFLOWS_DIR } from '../../src/ci/workflows';

/**
 * The pipelines in a temporary clone of the repository's HEAD (node_modules symlinked): the affected
 * gate's own script, taken from the committed workflow and run the way GitHub Actions runs a `bash`
 * step, on real commits; the generator re-run; a new service generated.
 */
const tmp = mkdtempSync(join(tmpdir(), 'ci-workflows-'));
const clone = join(tmp, 'clone');
const env = {
  ...process.env,
  CI: 'true',
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_CACHE_DIRECTORY: join(tmp, 'nx-cache'),
  NX_WORKSPACE_DATA_DIRECTORY: join(tmp, 'nx-workspace-data'),
};

function run(command: string, args: string[]): string {
  return execFileSync(command, args, {
    cwd: clone,
    env,
    encoding: 'utf8',
    timeout: 180_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function git(...args: string[]): string {
  return run('git', ['-c', 'user.email=test@ittd.dev', '-c', 'user.name=test', ...args]).trim();
}

function nx(...args: string[]): string {
  return run(join(clone, 'node_modules', '.bin', 'nx'), args);
}

function commitChange(file: string, message: string): void {
  appendFileSync(join(clone, file), `\n// ${message}\n`);
  git('add', '--', file);
  git('commit', '-q', '-m', message);
}

interface GateStep {
  id?: string;
  env?: Record<string, string>;
  run?: string;
}

/**
 * Runs the `gate` step of `.github/workflows/<workflow>.yml` as GitHub Actions runs a step with
 * `shell: bash` (`bash --noprofile --norc -eo pipefail <script file>`), with its own env and BASE/HEAD
 * set to what the expressions give for a push (before, sha). Returns the `run` output it wrote.
 */
function gate(workflow: string, base: string, head: string): string {
  const file = join(clone, WORKFLOWS_DIR, `${workflow}.yml`);
  const parsed = parse(readFileSync(file, 'utf8')) as { jobs: { affected: { steps: GateStep[] } } };
  const step = parsed.jobs.affected.steps.find((s) => s.id === 'gate');
  if (!step?.run || !step.env) throw new Error(`${file} has no gate step`);
  expect(step.env.BASE).toContain('github.event.before');
  expect(step.env.HEAD).toContain('github.sha');
  const script = join(tmp, `gate-${workflow}.sh`);
  const output = join(tmp, `gate-${workflow}.out`);
  writeFileSync(script, step.run);
  writeFileSync(output, '');
  execFileSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
    cwd: clone,
    env: { ...env, ...step.env, BASE: base, HEAD: head, GITHUB_OUTPUT: output },
    encoding: 'utf8',
    timeout: 180_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = readFileSync(output, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0];
}

const SERVICES = ['actions', 'applets', 'trigger-poller'];

beforeAll(() => {
  execFileSync('git', ['clone', '-q', workspaceRoot, clone], { stdio: 'ignore' });
  symlinkSync(join(workspaceRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
  for (const service of SERVICES) expect(existsSync(join(clone, WORKFLOWS_DIR, `${service}.yml`))).toBe(true);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Each test runs Nx several times (a project graph each): generous on a busy 2-core machine.
const SLOW = { timeout: 300_000 };

describe('the affected gate, run as the workflow runs it', SLOW, () => {
  it('a change in libs/platform: every service and the workspace run', () => {
    commitChange('libs/platform/src/index.ts', 'touch platform');
    const [base, head] = [git('rev-parse', 'HEAD~1'), git('rev-parse', 'HEAD')];
    for (const workflow of [...SERVICES, 'workspace'])
      expect(gate(workflow, base, head), workflow).toBe('run=true');
  });

  it('a change inside one service: that service runs, the other services skip', () => {
    commitChange('apps/applets/src/main.ts', 'touch applets');
    const [base, head] = [git('rev-parse', 'HEAD~1'), git('rev-parse', 'HEAD')];
    expect(gate('applets', base, head)).toBe('run=true');
    expect(gate('trigger-poller', base, head)).toBe('run=false');
    // The workspace workflow carries the cross-service test (engine-e2e), which starts every service.
    expect(gate('workspace', base, head)).toBe('run=true');
  });

  it('a change in a file no project owns: nothing runs', () => {
    commitChange('docs-note.txt', 'a note');
    const [base, head] = [git('rev-parse', 'HEAD~1'), git('rev-parse', 'HEAD')];
    for (const workflow of [...SERVICES, 'workspace'])
      expect(gate(workflow, base, head), workflow).toBe('run=false');
  });

  it('the all-zero `before` of a new branch, or a base the clone lacks: run', () => {
    const head = git('rev-parse', 'HEAD');
    expect(gate('trigger-poller', NO_COMMIT_SHA, head)).toBe('run=true');
    expect(gate('trigger-poller', 'f'.repeat(40), head)).toBe('run=true');
  });
});

describe('the ci generator in a clone', SLOW, () => {
  it('regenerating the committed workflows changes nothing', () => {
    nx('g', '@ittd/nx-plugin:ci', '--no-interactive');
    expect(git('status', '--porcelain', '--', '.github')).toBe('');
  });

  it('the check fails naming a stale file; re-running the generator makes it pass', () => {
    const file = join(clone, WORKFLOWS_DIR, 'trigger-poller.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('timeout-minutes: 15', 'timeout-minutes: 5'));
    let message = '';
    try {
      nx('run', 'nx-plugin:workflows-check', '--output-style=stream');
    } catch (error) {
      message = String((error as { stdout?: string }).stdout);
    }
    expect(message).toContain('.github/workflows/trigger-poller.yml: differs from line');
    expect(message).toContain('Re-run `npx nx g @ittd/nx-plugin:ci`');
    nx('g', '@ittd/nx-plugin:ci', '--no-interactive');
    nx('run', 'nx-plugin:workflows-check', '--output-style=stream');
    expect(git('status', '--porcelain', '--', '.github')).toBe('');
  });

  it('a new service gets its workflow, valid and current once committed', () => {
    nx('g', '@ittd/nx-plugin:service', 'billing', '--no-interactive');
    const file = join(clone, WORKFLOWS_DIR, 'billing.yml');
    const content = readFileSync(file, 'utf8');
    expect(validateWorkflow(content).errors).toEqual([]);
    expect(content).toContain(
      'npx nx run-many -t lint typecheck test -p billing,platform --output-style=stream',
    );
    expect(content).toContain('group: deploy-billing-production');
    git('add', '-A');
    git('commit', '-q', '-m', 'add billing');
    // The project graph on disk now has billing: what the service generator wrote is what it gives.
    nx('run', 'nx-plugin:workflows-check', '--output-style=stream');
  });
});
