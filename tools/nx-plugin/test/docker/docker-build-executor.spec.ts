import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBuildContext } from '../../src/docker/build-context';
import { buildImage, connectDocker } from '../../src/docker/docker-engine';
import bundleExecutor from '../../src/executors/bundle/executor';
import dockerBuildExecutor, { type ImageRecord } from '../../src/executors/docker-build/executor';
import {
  addedBytes,
  ensureBaseImage,
  FIXTURE_ROOT,
  freePort,
  LOCAL_BASE_IMAGE,
  removeTestContainers,
  runToCompletion,
  startContainer,
  waitForOk,
} from './engine-fixtures';
import { executorContext, WORKSPACE_ROOT } from '../../src/docker/executor-context';

const docker = connectDocker();
const runId = `docker-build-${process.pid}`;
// A service name of its own, so this file's images never collide with the real services' images.
const service = `fixture-${process.pid}`;
const bundlePath = join('tmp', 'nx-plugin-test', runId, 'bundle');
const outputPath = join('tmp', 'nx-plugin-test', runId, 'image');
const context = executorContext(service, FIXTURE_ROOT, 'docker-build');
const options = { bundlePath, outputPath, baseImage: LOCAL_BASE_IMAGE };

function imagePresent(): string {
  return execFileSync(
    process.execPath,
    [
      'tools/nx-plugin/src/docker/image-present.cjs',
      service,
      '--bundle',
      bundlePath,
      '--base-image',
      LOCAL_BASE_IMAGE,
    ],
    { cwd: WORKSPACE_ROOT, encoding: 'utf8' },
  ).trim();
}

async function removeImages(): Promise<void> {
  // By label: also catches the registry-prefixed tags of the push test.
  const images = await docker.listImages({ filters: { label: [`dev.ittd.service=${service}`] } });
  for (const image of images) await docker.getImage(image.Id).remove({ force: true });
}

let record: ImageRecord;

beforeAll(async () => {
  ensureBaseImage();
  const bundled = await bundleExecutor(
    { outputPath: bundlePath },
    executorContext(service, FIXTURE_ROOT, 'bundle'),
  );
  expect(bundled.success).toBe(true);
  const built = await dockerBuildExecutor(options, context);
  expect(built.error).toBeUndefined();
  record = built.record as ImageRecord;
}, 180_000);

afterAll(async () => {
  await removeTestContainers(docker, runId);
  await removeImages();
  rmSync(join(WORKSPACE_ROOT, 'tmp', 'nx-plugin-test', runId), { recursive: true, force: true });
});

describe('docker-build executor (real engine)', () => {
  it('tags <svc>:<git sha> and :latest, labels the image and records it in image.json', async () => {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: WORKSPACE_ROOT, encoding: 'utf8' }).trim();
    expect(record.image).toMatch(new RegExp(`^ittd/${service}:${sha}(-dirty-[0-9a-f]{12})?$`));
    expect(record.tags).toEqual([record.image, `ittd/${service}:latest`]);
    expect(record.revision).toBe(sha);
    expect(JSON.parse(readFileSync(join(WORKSPACE_ROOT, outputPath, 'image.json'), 'utf8'))).toEqual(record);

    const inspect = await docker.getImage(record.image).inspect();
    expect(inspect.Id).toBe(record.id);
    expect(inspect.RepoTags.sort()).toEqual([...record.tags].sort());
    expect(inspect.Config.Labels).toMatchObject({
      'org.opencontainers.image.title': `ittd/${service}`,
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.created': record.created,
    });
    expect(inspect.Config.Labels['org.opencontainers.image.source']).toMatch(/^(https?|file|ssh|git):|@/);
    expect(inspect.Config.Env).toContain('NODE_ENV=production');
    expect(inspect.Config.Entrypoint).toEqual(['node', '--enable-source-maps', 'main.js']);
    // @types/dockerode's ImageInspectInfo omits StopSignal, which the engine returns.
    expect((inspect.Config as { StopSignal?: string }).StopSignal).toBe('SIGTERM');
  });

  it('runs as a non-root user and adds only the bundle to the base image', async () => {
    expect((await docker.getImage(record.image).inspect()).Config.User).toBe('1000:1000');
    const { exitCode, output } = await runToCompletion(docker, record.image, runId, ['whoami']);
    expect(exitCode).toBe(0);
    expect(JSON.parse(output)).toEqual({ uid: 1000, file: '/app/main.js' });
    expect(await addedBytes(docker, record.image, LOCAL_BASE_IMAGE)).toBeLessThan(10 * 1024 * 1024);
  });

  it('serves /health/ready and exits 0 within its drain deadline on SIGTERM', async () => {
    const port = await freePort();
    const container = await startContainer(docker, record.image, runId, {
      env: { PORT: String(port), SHUTDOWN_DRAIN_MS: '300' },
    });
    await waitForOk(`http://127.0.0.1:${port}/health/ready`, 15_000);
    await container.stop({ t: 10 });
    const state = (await container.inspect()).State;
    expect(state.ExitCode).toBe(0);
    expect(state.OOMKilled).toBe(false);
  });

  it('does not rebuild an image the engine has; image-present.cjs reports one built outside Nx', async () => {
    expect(imagePresent()).toBe(`present ${record.id} ${[...record.tags].sort().join(',')}`);
    const again = await dockerBuildExecutor(options, context);
    expect(again.record).toEqual(record);
  });

  it('hands a missing image a new ticket, which the build carries so the next Nx hash matches', async () => {
    await removeImages();
    const before = imagePresent();
    expect(before).toMatch(/^image [0-9a-f-]{36}$/);
    const rebuilt = await dockerBuildExecutor(options, context);
    expect(rebuilt.success).toBe(true);
    expect((await docker.getImage(rebuilt.record?.image ?? '').inspect()).Id).toBe(rebuilt.record?.id);
    expect(imagePresent()).toBe(before);
    record = rebuilt.record as ImageRecord;

    // Gone again: a ticket never seen, so no cached hash can match a missing image.
    await removeImages();
    const missing = imagePresent();
    expect(missing).toMatch(/^image [0-9a-f-]{36}$/);
    expect(missing).not.toBe(before);
    record = (await dockerBuildExecutor(options, context)).record as ImageRecord;
    expect(imagePresent()).toBe(missing);
  });

  it('rebuilds on a changed base image (same name, new id)', async () => {
    const base = `ittd-test/base-${process.pid}:1`;
    const dir = mkdtempSync(join(tmpdir(), 'ittd-base-'));
    const baseImage = async (label: string): Promise<string> => {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${LOCAL_BASE_IMAGE}\nLABEL dev.ittd.test-base=${label}\n`);
      const spec = { repository: base, exactTag: base, tags: [base], labels: {}, buildArgs: {}, context: [] };
      return buildImage(
        docker,
        packBuildContext([{ name: 'Dockerfile', source: join(dir, 'Dockerfile') }]),
        spec,
        {
          onEvent: () => undefined,
        },
      );
    };
    try {
      await baseImage('one');
      const first = await dockerBuildExecutor({ ...options, baseImage: base }, context);
      await baseImage('two');
      const second = await dockerBuildExecutor({ ...options, baseImage: base }, context);
      expect(first.success && second.success).toBe(true);
      expect(second.record?.id).not.toBe(first.record?.id);
      expect(
        (await docker.getImage(second.record?.id ?? '').inspect()).Config.Labels['dev.ittd.test-base'],
      ).toBe('two');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await removeImages();
      await docker.getImage(base).remove({ force: true });
    }
  });

  it('pushes to the registry given and reports the engine refusing it', async () => {
    const registry = `127.0.0.1:${await freePort()}`; // nothing listens there
    const result = await dockerBuildExecutor({ ...options, registry, push: true }, context);
    expect(result.success).toBe(false);
    expect(result.error).toMatch(
      new RegExp(`${registry.replaceAll('.', '\\.')}.*(connection refused|connect)`, 'i'),
    );
    // Tagged with the registry prefix before the push was tried.
    const tagged = await docker.getImage(`${registry}/ittd/${service}:latest`).inspect();
    expect(tagged.Config.Labels['dev.ittd.service']).toBe(service);
  });

  it.each([
    // Exec form: the local base image has no shell.
    ['a failing RUN step', 'RUN ["node", "-e", "process.exit(3)"]', /returned a non-zero code: 3/],
    ['an unknown instruction', 'FROBNICATE now', /unknown instruction: FROBNICATE/i],
  ])('fails with the engine message on %s', async (_name, line, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'ittd-dockerfile-'));
    const dockerfile = join(dir, 'Dockerfile');
    writeFileSync(dockerfile, `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nCOPY app/ /app/\n${line}\n`);
    try {
      const result = await dockerBuildExecutor(
        { ...options, dockerfile, outputPath: join(outputPath, 'broken') },
        context,
      );
      expect(result.success).toBe(false);
      expect(result.error).toMatch(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
