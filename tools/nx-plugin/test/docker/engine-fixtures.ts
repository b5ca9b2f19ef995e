import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { demultiplexLogs } from '../../src/docker/docker-engine';
import { WORKSPACE_ROOT } from '../../src/docker/executor-context';

/** The test fixture service (health, SIGTERM, describe-config), relative to the workspace root. */
export const FIXTURE_ROOT = 'tools/nx-plugin/test/docker/fixtures/hello-service';

/** The base image the tests build on: no registry is reachable, so never node:24-bookworm-slim. */
export const LOCAL_BASE_IMAGE = 'ittd/node-base:24-local';

/** Label on every container a test starts, so afterAll removes exactly those. */
export const TEST_LABEL = 'dev.ittd.test-run';

/** Builds the local base image unless it is there (docker/base-image/build.sh is idempotent, ~2 s cold). */
export function ensureBaseImage(): void {
  execFileSync(join(WORKSPACE_ROOT, 'docker/base-image/build.sh'), { stdio: 'ignore', timeout: 120_000 });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Polls `url` until it answers 200; gives up after `timeoutMs` with the last status or error. */
export async function waitForOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}

/**
 * Starts `image` on the host network (so it reaches the host's Postgres and Redis at 127.0.0.1), labelled
 * with `runId` for cleanup.
 */
export async function startContainer(
  docker: Docker,
  image: string,
  runId: string,
  options: { env: Record<string, string>; cmd?: string[]; entrypoint?: string[] },
): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: options.entrypoint,
    Cmd: options.cmd,
    Env: Object.entries(options.env).map(([key, value]) => `${key}=${value}`),
    Labels: { [TEST_LABEL]: runId },
    HostConfig: { NetworkMode: 'host' },
  });
  await container.start();
  return container;
}

/** Runs `image` with `cmd` (and `entrypoint`, if given) to completion, bounded; returns exit code and output. */
export async function runToCompletion(
  docker: Docker,
  image: string,
  runId: string,
  cmd: string[],
  entrypoint?: string[],
): Promise<{ exitCode: number; output: string }> {
  const container = await startContainer(docker, image, runId, { env: {}, cmd, entrypoint });
  const result = (await Promise.race([
    container.wait(),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${cmd.join(' ')} did not finish in 60 s`)), 60_000),
    ),
  ])) as { StatusCode: number };
  const logs = await container.logs({ stdout: true, stderr: true });
  return { exitCode: result.StatusCode, output: demultiplexLogs(logs) };
}

/** Removes every container this test run started. */
export async function removeTestContainers(docker: Docker, runId: string): Promise<void> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${TEST_LABEL}=${runId}`] },
  });
  for (const info of containers) await docker.getContainer(info.Id).remove({ force: true });
}

/** Bytes an image adds on top of its base image. */
export async function addedBytes(docker: Docker, image: string, base: string): Promise<number> {
  const [top, bottom] = await Promise.all([
    docker.getImage(image).inspect(),
    docker.getImage(base).inspect(),
  ]);
  return top.Size - bottom.Size;
}
