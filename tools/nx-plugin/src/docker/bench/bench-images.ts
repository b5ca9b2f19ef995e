/**
 * `npm run bench:images`: for each service (apps/*\/service.json) the image size and build time, cold
 * (no layer cache) and cached (the engine has this bundle's image), next to a naive image of the same
 * service (the whole workspace with all its node_modules, from the same base, built in the same run),
 * and the time of `nx affected -t docker-build` run twice (the second is timed, next to `nx show projects`
 * as Nx's fixed cost). Prints a table, then
 * one JSON line of ratios. The naive images are removed at the end.
 *
 * Env: BASE_IMAGE (default ittd/node-base:24-local, built if missing).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import bundleExecutor from '../../executors/bundle/executor';
import dockerBuildExecutor from '../../executors/docker-build/executor';
import { buildImage, connectDocker } from '../docker-engine';
import { executorContext, WORKSPACE_ROOT } from '../executor-context';
import type { ImageSpec } from '../image-spec';

const LOCAL_BASE_IMAGE = 'ittd/node-base:24-local';
const MB = 1_000_000;

interface ServiceResult {
  service: string;
  imageMb: number;
  addedMb: number;
  coldS: number;
  cachedS: number;
  naiveMb: number;
  naiveBuildS: number;
  ratio: number;
}

async function timed<T>(task: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await task();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function imageSize(docker: Docker, image: string): Promise<number> {
  return (await docker.getImage(image).inspect()).Size;
}

/** The naive build: a tar of the workspace (minus .git, build outputs, .ci/node) piped into the Engine API. */
async function buildNaive(docker: Docker, service: string, baseImage: string, tag: string): Promise<void> {
  const tar = spawn(
    'tar',
    [
      '-C',
      WORKSPACE_ROOT,
      '--exclude=./.git',
      '--exclude=./dist',
      '--exclude=./tmp',
      '--exclude=./.nx',
      '--exclude=./.ci/node', // the pinned Node .ci/install-node.sh may have unpacked: not the workspace
      '-cf',
      '-',
      '.',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const spec: ImageSpec = {
    repository: tag.split(':')[0],
    exactTag: tag,
    tags: [tag],
    labels: {},
    buildArgs: { BASE_IMAGE: baseImage, SERVICE: service },
    context: [],
  };
  await buildImage(docker, tar.stdout, spec, {
    dockerfile: 'docker/bench/naive.Dockerfile',
    noCache: true,
    onEvent: () => undefined,
  });
}

async function benchService(docker: Docker, service: string, baseImage: string): Promise<ServiceResult> {
  const bundled = await bundleExecutor({}, executorContext(service, `apps/${service}`, 'bundle'));
  if (!bundled.success) throw new Error(`bundle of ${service} failed`);
  const context = executorContext(service, `apps/${service}`, 'docker-build');
  const cold = await timed(() => dockerBuildExecutor({ baseImage, noCache: true }, context));
  const cached = await timed(() => dockerBuildExecutor({ baseImage }, context));
  const image = cold.value.record?.image;
  if (!cold.value.success || !cached.value.success || !image)
    throw new Error(`docker-build of ${service} failed`);

  const naiveTag = `ittd-bench/naive-${service}:${process.pid}`;
  try {
    const naive = await timed(() => buildNaive(docker, service, baseImage, naiveTag));
    const [size, base, naiveSize] = await Promise.all([
      imageSize(docker, image),
      imageSize(docker, baseImage),
      imageSize(docker, naiveTag),
    ]);
    return {
      service,
      imageMb: size / MB,
      addedMb: (size - base) / MB,
      coldS: cold.seconds,
      cachedS: cached.seconds,
      naiveMb: naiveSize / MB,
      naiveBuildS: naive.seconds,
      ratio: size / naiveSize,
    };
  } finally {
    await docker
      .getImage(naiveTag)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

/** Wall seconds and output of one `npx nx ...` run in the workspace (BASE_IMAGE set, no TUI). */
function timeNx(args: string[], baseImage: string): { seconds: number; output: string } {
  const started = performance.now();
  const output = execFileSync('npx', ['nx', ...args], {
    cwd: WORKSPACE_ROOT,
    env: { ...process.env, BASE_IMAGE: baseImage, NX_TUI: 'false' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  });
  return { seconds: (performance.now() - started) / 1000, output };
}

/** How many of the tasks Nx ran came from its cache (`> nx run x:y  [local cache]`), to read the timing by. */
function cacheSummary(output: string): string {
  const tasks = output.split('\n').filter((line) => line.trimStart().startsWith('> nx run '));
  if (tasks.length === 0) return 'nothing affected';
  return `${tasks.filter((line) => line.includes('[local cache]')).length}/${tasks.length} tasks from the cache`;
}

async function main(): Promise<void> {
  const baseImage = process.env.BASE_IMAGE || LOCAL_BASE_IMAGE;
  if (baseImage === LOCAL_BASE_IMAGE) {
    execFileSync(join(WORKSPACE_ROOT, 'docker/base-image/build.sh'), { stdio: 'inherit' });
  }
  const docker = connectDocker();
  const services = readdirSync(join(WORKSPACE_ROOT, 'apps')).filter((name) =>
    existsSync(join(WORKSPACE_ROOT, 'apps', name, 'service.json')),
  );
  const results: ServiceResult[] = [];
  for (const service of services) results.push(await benchService(docker, service, baseImage));
  // Run twice, time the second: everything is a cache hit then. `nx show projects` is Nx's fixed cost
  // (project graph, plugins) on this machine now, for comparison.
  timeNx(['affected', '-t', 'docker-build', '--output-style=static'], baseImage);
  const affected = timeNx(['affected', '-t', 'docker-build', '--output-style=static'], baseImage);
  const graphOnly = timeNx(['show', 'projects'], baseImage);

  const fixed = (n: number, digits = 1): string => n.toFixed(digits);
  console.log(`\nbase image: ${baseImage} (${fixed((await imageSize(docker, baseImage)) / MB)} MB)\n`);
  console.table(
    results.map((r) => ({
      service: r.service,
      'image MB': fixed(r.imageMb),
      'added MB': fixed(r.addedMb, 2),
      'cold build s': fixed(r.coldS),
      'cached build s': fixed(r.cachedS, 2),
      'naive MB': fixed(r.naiveMb),
      'naive build s': fixed(r.naiveBuildS),
      'size vs naive': `${fixed(r.ratio, 3)}x`,
    })),
  );
  console.log(
    `nx affected -t docker-build, second run: ${fixed(affected.seconds, 2)} s, ${cacheSummary(affected.output)}` +
      ` (nx show projects alone: ${fixed(graphOnly.seconds, 2)} s)`,
  );
  console.log(
    `load average: ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs`,
  );
  const summary: Record<string, number> = {};
  for (const r of results) {
    summary[`${r.service}_size_ratio_vs_naive`] = Number(r.ratio.toFixed(3));
    summary[`${r.service}_added_mb`] = Number(r.addedMb.toFixed(2));
    summary[`${r.service}_cold_build_s`] = Number(r.coldS.toFixed(2));
    summary[`${r.service}_cached_build_s`] = Number(r.cachedS.toFixed(2));
  }
  summary.affected_nothing_changed_s = Number(affected.seconds.toFixed(2));
  summary.nx_show_projects_s = Number(graphOnly.seconds.toFixed(2));
  console.log(JSON.stringify(summary));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
