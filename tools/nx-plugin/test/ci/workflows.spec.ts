import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { workspaceRoot, type ProjectGraph } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ciProjectsFromGraph } from '../../src/ci/ci-projects';
import { COMPOSE_IMAGES } from '../../src/compose/compose-file';
import { buildWorkflows, GENERATED_HEADER, WORKFLOWS_DIR } from '../../src/ci/workflows';
import ciGenerator, { syncWorkflows } from '../../src/generators/ci/generator';
import { serviceTargets } from '../../src/plugin';

type Graph = Pick<ProjectGraph, 'nodes' | 'dependencies'>;
interface Job {
  needs?: string | string[];
  if?: string;
  environment?: string;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  services?: Record<string, { image: string }>;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: { id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> }[];
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

/** A graph shaped like the real one: two services on a platform lib, a tool; nodes in a scrambled order. */
function graph(order: 'forward' | 'reverse' = 'forward'): Graph {
  const service = (name: string, environments: string[]) => ({
    name,
    type: 'app' as const,
    data: { root: `apps/${name}`, targets: serviceTargets(name, environments) },
  });
  const lib = (name: string, root: string) => ({
    name,
    type: 'lib' as const,
    data: { root, targets: { test: { executor: '@nx/vitest:test' } } },
  });
  const nodes = [
    service('billing', ['staging', 'local']),
    lib('platform', 'libs/platform'),
    service('notifier', []),
    lib('service-api', 'libs/service-api'),
    lib('nx-plugin', 'tools/nx-plugin'),
  ];
  const edge = (source: string, target: string) => ({ source, target, type: 'static' as const });
  const dependencies = {
    billing: [edge('billing', 'service-api'), edge('billing', 'npm:express')],
    notifier: [edge('notifier', 'platform')],
    'service-api': [edge('service-api', 'platform')],
    'nx-plugin': [edge('nx-plugin', 'platform')],
    platform: [],
  };
  if (order === 'reverse') nodes.reverse();
  return { nodes: Object.fromEntries(nodes.map((n) => [n.name, n])), dependencies };
}

function workflowOf(content: string): Workflow {
  return parse(content) as Workflow;
}

function validationErrors(content: string): unknown[] {
  return validateWorkflow(content).errors;
}

describe('workflows from a project graph', () => {
  const files = buildWorkflows(ciProjectsFromGraph(graph()));
  const billing = workflowOf(files.find((f) => f.path.endsWith('/billing.yml'))?.content ?? '');

  it('one per service and one for the libraries and tools, whatever the graph order', () => {
    expect(files.map((f) => f.path)).toEqual([
      `${WORKFLOWS_DIR}/billing.yml`,
      `${WORKFLOWS_DIR}/notifier.yml`,
      `${WORKFLOWS_DIR}/workspace.yml`,
    ]);
    expect(buildWorkflows(ciProjectsFromGraph(graph('reverse')))).toEqual(files);
    for (const file of files) expect(file.content.startsWith(`${GENERATED_HEADER}\n`)).toBe(true);
    const workspace = workflowOf(files[2].content);
    expect(workspace.jobs.build.steps.at(-1)?.run).toContain('-p nx-plugin,platform,service-api ');
  });

  it('runs on pull requests and pushes to main; a gate job on full history decides the rest', () => {
    expect(billing.on).toEqual({ pull_request: null, push: { branches: ['main'] } });
    const [first, ...others] = Object.keys(billing.jobs);
    expect(first).toBe('affected');
    expect(billing.jobs.affected.steps[0]).toMatchObject({ with: { 'fetch-depth': 0 } });
    expect(billing.jobs.affected.outputs).toEqual({ run: '${{ steps.gate.outputs.run }}' });
    expect(billing.jobs.build.if).toBe("needs.affected.outputs.run == 'true'");
    // Every other job waits for build, so a skipped build skips them too.
    for (const job of others.filter((j) => j !== 'build')) expect(billing.jobs[job].needs).toContain('build');
  });

  it('tests the service and everything it depends on (not npm packages), with Postgres and Redis', () => {
    const build = billing.jobs.build;
    expect(build.steps.map((s) => s.run).filter(Boolean)).toEqual([
      'npm ci --no-audit --no-fund',
      'npx nx run-many -t lint typecheck test -p billing,platform,service-api --output-style=stream',
      'npx nx run-many -t bundle docker-build -p billing --output-style=stream',
      'npx nx run-many -t marathon chronos -p billing -c staging --output-style=stream',
      'npx nx run-many -t marathon chronos -p billing -c production --output-style=stream',
      'npx nx run billing:docker-build --push --output-style=stream',
    ]);
    expect(Object.keys(build.services ?? {})).toEqual(['postgres', 'redis']);
    // The same images as the local stack's defaults.
    expect(COMPOSE_IMAGES.postgres).toContain(`:-${build.services?.postgres.image}}`);
    expect(COMPOSE_IMAGES.redis).toContain(`:-${build.services?.redis.image}}`);
    expect(build.env).toMatchObject({
      TEST_POSTGRES_URL: 'postgres://postgres@localhost:5432/test',
      TEST_REDIS_URL: 'redis://localhost:6379',
    });
    const setupNode = build.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with).toEqual({ 'node-version-file': '.node-version', cache: 'npm' });
    const uploads = build.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(uploads.map((s) => s.with?.name)).toEqual([
      'billing-manifests-staging',
      'billing-manifests-production',
    ]);
  });

  it('pushes and deploys on main only, production after staging, a concurrency group per service and environment', () => {
    const onMain = "github.event_name == 'push' && github.ref == 'refs/heads/main'";
    expect(billing.jobs.build.steps.find((s) => s.run?.includes('--push'))?.if).toBe(onMain);
    expect(billing.jobs['deploy-staging']).toMatchObject({
      needs: 'build',
      if: onMain,
      environment: 'staging',
      concurrency: { group: 'deploy-billing-staging', 'cancel-in-progress': false },
    });
    expect(billing.jobs['deploy-production']).toMatchObject({
      needs: ['build', 'deploy-staging'],
      environment: 'production',
      concurrency: { group: 'deploy-billing-production', 'cancel-in-progress': false },
    });
    expect(billing.jobs['deploy-production'].steps.at(-1)?.run).toBe(
      'npx nx run billing:deploy -c production --exclude-task-dependencies --output-style=stream',
    );
    expect(billing.jobs['deploy-local']).toBeUndefined();
  });

  it('every generated workflow passes the validator, which rejects a broken one', () => {
    for (const file of files) expect(validationErrors(file.content), file.path).toEqual([]);
    const broken = files[0].content.replace('needs: affected', 'needs: afected');
    expect(validationErrors(broken)).toContainEqual(expect.objectContaining({ code: 'unresolved_job' }));
  });

  it('refuses a service named like the workspace workflow', () => {
    const projects = ciProjectsFromGraph(graph());
    projects.services[0].name = 'workspace';
    expect(() => buildWorkflows(projects)).toThrow('cannot be named "workspace"');
  });
});

// The generator reads the real project graph (seconds each time).
describe('the committed workflows', { timeout: 180_000 }, () => {
  const dir = join(workspaceRoot, WORKFLOWS_DIR);

  it('pass the validator', () => {
    const names = readdirSync(dir).sort();
    expect(names).toContain('workspace.yml');
    for (const name of names)
      expect(validationErrors(readFileSync(join(dir, name), 'utf8')), name).toEqual([]);
  });

  it('--check names a stale or extra workflow and the command; a plain run fixes it', async () => {
    const tree = createTreeWithEmptyWorkspace();
    // Every service of the workspace, so the committed workflows start out current.
    const services = readdirSync(join(workspaceRoot, 'apps')).filter((name) =>
      existsSync(join(workspaceRoot, 'apps', name, 'service.json')),
    );
    for (const name of services) {
      tree.write(
        `apps/${name}/service.json`,
        readFileSync(join(workspaceRoot, 'apps', name, 'service.json')),
      );
    }
    for (const name of readdirSync(dir))
      tree.write(`${WORKFLOWS_DIR}/${name}`, readFileSync(join(dir, name)));
    await ciGenerator(tree, { check: true });

    tree.write(
      `${WORKFLOWS_DIR}/applets.yml`,
      `${tree.read(`${WORKFLOWS_DIR}/applets.yml`, 'utf-8')}# edit\n`,
    );
    tree.write(`${WORKFLOWS_DIR}/gone.yml`, `${GENERATED_HEADER}\nname: gone\n`);
    tree.write(`${WORKFLOWS_DIR}/hand-written.yml`, 'name: mine\n');
    const failure = ciGenerator(tree, { check: true });
    await expect(failure).rejects.toThrow(/\.github\/workflows\/applets\.yml: differs from line \d+/);
    await expect(failure).rejects.toThrow('.github/workflows/gone.yml: generated for a project that');
    await expect(failure).rejects.toThrow('Re-run `npx nx g @ittd/nx-plugin:ci`');

    await ciGenerator(tree);
    await ciGenerator(tree, { check: true });
    expect(tree.exists(`${WORKFLOWS_DIR}/gone.yml`)).toBe(false);
    expect(tree.exists(`${WORKFLOWS_DIR}/hand-written.yml`)).toBe(true);
  });

  it('a service only in the Tree (being generated) gets its workflow from its package.json', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('apps/billing/service.json', JSON.stringify({ processes: { web: { args: ['serve'] } } }));
    tree.write('apps/billing/package.json', JSON.stringify({ dependencies: { '@ittd/service-api': '*' } }));
    const g = graph();
    for (const [name, root] of [
      ['platform', 'libs/platform'],
      ['service-api', 'libs/service-api'],
    ]) {
      Object.assign(g.nodes[name].data, { metadata: { js: { packageName: `@ittd/${name}` } } });
      expect(g.nodes[name].data.root).toBe(root);
    }
    delete g.nodes.billing;
    expect(await syncWorkflows(tree, g, {})).toContainEqual({
      path: `${WORKFLOWS_DIR}/billing.yml`,
      reason: 'missing',
    });
    const billing = workflowOf(tree.read(`${WORKFLOWS_DIR}/billing.yml`, 'utf-8') ?? '');
    expect(billing.jobs.build.steps[3].run).toContain('-p billing,platform,service-api ');
    expect(Object.keys(billing.jobs)).toEqual(['affected', 'build', 'deploy-production']);
  });
});
