import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '@ittd/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDocker } from '../../src/docker/docker-engine';
import bundleExecutor from '../../src/executors/bundle/executor';
import dockerBuildExecutor, { type ImageRecord } from '../../src/executors/docker-build/executor';
import {
  addedBytes,
  ensureBaseImage,
  freePort,
  LOCAL_BASE_IMAGE,
  removeTestContainers,
  runToCompletion,
  startContainer,
  waitForOk,
} from './engine-fixtures';
import { executorContext, WORKSPACE_ROOT } from '../../src/docker/executor-context';

/** Every deployable service: a folder under apps/ with a service.json. */
const services = readdirSync(join(WORKSPACE_ROOT, 'apps')).filter((name) =>
  existsSync(join(WORKSPACE_ROOT, 'apps', name, 'service.json')),
);

interface ConfigSchema {
  env: Array<{ name: string; required: boolean; secret: boolean }>;
}

interface ServiceDescriptor {
  processes: Record<string, { args: string[]; port?: number }>;
  health?: { readyPath?: string };
  env?: Record<string, Record<string, unknown>>;
}

const docker = connectDocker();
const runId = `service-images-${process.pid}`;
const scratch = join('tmp', 'nx-plugin-test', runId);
const DRAIN_MS = 500;

beforeAll(() => ensureBaseImage(), 120_000);

afterAll(async () => {
  await removeTestContainers(docker, runId);
  rmSync(join(WORKSPACE_ROOT, scratch), { recursive: true, force: true });
});

it('finds the services to build', () => {
  expect(services.length).toBeGreaterThan(0);
});

describe.each(services)('the %s image', (service) => {
  const descriptor = JSON.parse(
    readFileSync(join(WORKSPACE_ROOT, 'apps', service, 'service.json'), 'utf8'),
  ) as ServiceDescriptor;
  const bundlePath = join(scratch, service, 'bundle');
  let record: ImageRecord;
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    const bundled = await bundleExecutor(
      { outputPath: bundlePath },
      executorContext(service, `apps/${service}`, 'bundle'),
    );
    expect(bundled.success).toBe(true);
    const built = await dockerBuildExecutor(
      { bundlePath, outputPath: join(scratch, service, 'image'), baseImage: LOCAL_BASE_IMAGE },
      executorContext(service, `apps/${service}`, 'docker-build'),
    );
    expect(built.error).toBeUndefined();
    record = built.record as ImageRecord;

    // Required settings from the service's own config description: infrastructure pointed at this
    // machine, the rest from its `local` env, else a random value.
    database = await createTestDatabase(`image_${service}`);
    const schema = JSON.parse(
      readFileSync(join(WORKSPACE_ROOT, bundlePath, 'config-schema.json'), 'utf8'),
    ) as ConfigSchema;
    const local = descriptor.env?.local ?? {};
    env = { SHUTDOWN_DRAIN_MS: String(DRAIN_MS), LOG_LEVEL: 'warn' };
    for (const field of schema.env.filter((f) => f.required)) {
      if (field.name === 'DATABASE_URL') env[field.name] = database.url;
      else if (field.name === 'REDIS_URL') env[field.name] = testRedisUrl();
      else if (typeof local[field.name] === 'string') env[field.name] = local[field.name] as string;
      else env[field.name] = randomBytes(24).toString('hex');
    }
  }, 240_000);

  afterAll(async () => {
    await removeTestContainers(docker, runId);
    await database?.drop();
  });

  it('adds under 10 MB to the base image and runs as a non-root user', async () => {
    expect(await addedBytes(docker, record.image, LOCAL_BASE_IMAGE)).toBeLessThan(10 * 1024 * 1024);
    expect((await docker.getImage(record.image).inspect()).Config.User).toBe('1000:1000');
    const probe = await runToCompletion(docker, record.image, runId, ['-p', 'process.getuid()'], ['node']);
    expect(probe).toEqual({ exitCode: 0, output: '1000\n' });
  });

  // Each process as Marathon runs it: the image's entrypoint with the process's args.
  const httpProcesses = Object.entries(descriptor.processes).filter(
    ([, definition]) => definition.port !== undefined,
  );

  it.each(httpProcesses)(
    'runs process %s: answers its readiness path, then exits 0 within its drain deadline on SIGTERM',
    async (_name, definition) => {
      const port = await freePort();
      const container = await startContainer(docker, record.image, runId, {
        env: { ...env, PORT: String(port) },
        cmd: definition.args,
      });
      await waitForOk(`http://127.0.0.1:${port}${descriptor.health?.readyPath ?? '/health/ready'}`, 30_000);
      await container.stop({ t: Math.ceil(DRAIN_MS / 1000) + 10 });
      const state = (await container.inspect()).State;
      expect(state.ExitCode).toBe(0);
    },
  );
});
