import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CreateNodesContext } from '@nx/devkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createNodesV2, SERVICE_DESCRIPTOR_GLOB } from '../../src/plugin';

const workspaceRoot = mkdtempSync(join(tmpdir(), 'create-nodes-'));
const context: CreateNodesContext = { workspaceRoot, nxJsonConfiguration: {} };

function writeService(name: string, descriptor: unknown): string {
  mkdirSync(join(workspaceRoot, 'apps', name), { recursive: true });
  writeFileSync(join(workspaceRoot, 'apps', name, 'service.json'), JSON.stringify(descriptor));
  return `apps/${name}/service.json`;
}

afterAll(() => rmSync(workspaceRoot, { recursive: true, force: true }));

describe('createNodesV2', () => {
  const [glob, createNodes] = createNodesV2;

  it('is keyed on apps/*/service.json', () => {
    expect(glob).toBe(SERVICE_DESCRIPTOR_GLOB);
    expect(glob).toBe('apps/*/service.json');
  });

  it('infers bundle, build, docker-build, marathon, chronos, swarm and deploy for every service', async () => {
    const files = [
      writeService('applets', { processes: { web: { args: ['serve'], port: 3000 } } }),
      writeService('notifier', {
        processes: { worker: { args: ['worker'] } },
        jobs: { purge: { cron: '0 3 * * *' } },
      }),
    ];
    const results = await createNodes(files, {}, context);
    expect(results.map(([file]) => file)).toEqual(files);

    const applets = results[0][1].projects?.['apps/applets'];
    expect(applets?.root).toBe('apps/applets');
    const targets = applets?.targets ?? {};
    expect(Object.keys(targets).sort()).toEqual([
      'build',
      'bundle',
      'chronos',
      'deploy',
      'docker-build',
      'marathon',
      'swarm',
    ]);
    expect(targets.bundle).toMatchObject({
      executor: '@ittd/nx-plugin:bundle',
      cache: true,
      inputs: ['production', '^production'],
      outputs: ['{workspaceRoot}/dist/apps/applets'],
    });
    expect(targets.build).toMatchObject({ executor: 'nx:noop', dependsOn: ['bundle'] });
    expect(targets['docker-build']).toMatchObject({
      executor: '@ittd/nx-plugin:docker-build',
      dependsOn: ['bundle'],
      cache: true,
      outputs: ['{workspaceRoot}/dist/docker/applets'],
    });
    expect(targets['docker-build'].inputs).toEqual(
      expect.arrayContaining([
        { dependentTasksOutputFiles: '**/*', transitive: false },
        '{workspaceRoot}/docker/Dockerfile',
        { env: 'BASE_IMAGE' },
        { env: 'ITTD_REGISTRY' },
        { env: 'ITTD_PUSH' },
        { runtime: 'node tools/nx-plugin/src/docker/image-present.cjs applets' },
      ]),
    );
    expect(targets.marathon).toMatchObject({
      executor: '@ittd/nx-plugin:marathon',
      dependsOn: ['docker-build'],
      options: { environment: 'production' },
      outputs: ['{workspaceRoot}/dist/deploy/applets/marathon'],
    });
    expect(targets.chronos.outputs).toEqual([
      '{workspaceRoot}/dist/deploy/applets/chronos',
      '{workspaceRoot}/dist/deploy/applets/metronome',
    ]);

    const notifier = results[1][1].projects?.['apps/notifier']?.targets ?? {};
    expect(notifier.bundle.outputs).toEqual(['{workspaceRoot}/dist/apps/notifier']);
  });

  it('reports a broken descriptor with its file and path', async () => {
    const file = writeService('broken', { processes: { web: { port: 3000 } } });
    const error = await Promise.resolve(createNodes([file], {}, context)).then(
      () => undefined,
      (e: unknown) => e as { errors?: [string, Error][] },
    );
    const [[failedFile, cause]] = error?.errors ?? [['', new Error('no error')]];
    expect(failedFile).toBe(file);
    expect(cause.message).toContain('apps/broken/service.json is not a valid service descriptor');
    expect(cause.message).toContain('/processes/web: missing required property "args"');
  });
});
