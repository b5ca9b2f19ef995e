/**
 * `npm run bench:deploy [-- --ci]`: does a rolling deploy of a live service drop requests? On a single-node
 * Docker Swarm, from scratch:
 *
 * 1. `npm run swarm -- up` (swarm init when needed, Postgres and Redis services), then
 *    `nx run applets:deploy -c local-swarm`: bundle, image, spec, and the deploy tool creates
 *    local-swarm-applets-web with 3 replicas behind the routing mesh on 127.0.0.1:3000.
 * 2. Steady keep-alive load on an authenticated route (`GET /v1/applets`, one user and token per client).
 * 3. Rolls out a new image (the bundle with a real change: a new release marker in main.js) through the
 *    deploy tool (`nx run applets:swarm` + `applets:deploy -c local-swarm`), under load.
 * 4. Rolls out an image whose readiness never passes (its `/health/ready` answers 503), under load: Swarm
 *    must roll it back and the deploy must exit non-zero.
 * 5. Prints requests sent/failed and p99 before/during/after each rollout, the rollout times, and as its last
 *    line one JSON object (requests_sent, requests_failed, rollback_requests_sent, rollback_requests_failed,
 *    rollout_s, ...). Removes everything it created and leaves the swarm if it initialised it.
 * Exits 1 when a request failed (connection error, time-out, 5xx) or the bad release was not rolled back.
 * `--ci`: fewer clients and shorter steady phases, same assertions.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildImage, connectDocker } from '../../docker/docker-engine';
import { packBuildContext } from '../../docker/build-context';
import { dockerSwarmApi } from '../../swarm-client/swarm-api';
import { serviceOutputs } from '../../service-outputs';
import { failed, quantileMs, startLoad, type LoadRun, type LoadSample } from './http-load';

const ROOT = resolve(__dirname, '../../../../..');
const ENVIRONMENT = 'local-swarm';
const SERVICE = 'applets';
const SWARM_SERVICE = `${ENVIRONMENT}-${SERVICE}-web`;
const BASE_URL = 'http://127.0.0.1:3000';
const ci = process.argv.includes('--ci');
const clients = ci ? 6 : 12;
const ratePerClient = ci ? 5 : 8;
const steadySeconds = ci ? 3 : 8;
/** No phase may run longer than this (a rollout that hangs ends the bench). */
const MAX_PHASE_SECONDS = 300;

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function must(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const status = sh(command, args, env);
  if (status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${status}`);
}

function say(line: string): void {
  console.log(`bench:deploy: ${line}`);
}

async function json(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Builds `tag` from the applets bundle with `prelude` put before its main.js (the base image of docker-build). */
async function buildVariant(tag: string, prelude: string): Promise<void> {
  const bundle = join(ROOT, serviceOutputs(SERVICE).bundle);
  const dir = mkdtempSync(join(tmpdir(), 'bench-deploy-'));
  try {
    writeFileSync(join(dir, 'main.js'), prelude + readFileSync(join(bundle, 'main.js'), 'utf8'));
    const entries = [
      { name: 'Dockerfile', source: join(ROOT, 'docker/Dockerfile') },
      { name: 'app/main.js', source: join(dir, 'main.js') },
      { name: 'app/package.json', source: join(bundle, 'package.json') },
    ];
    const spec = {
      repository: 'ittd/applets',
      exactTag: tag,
      tags: [tag],
      labels: {},
      buildArgs: { BASE_IMAGE: baseImage() },
      context: entries,
    };
    await buildImage(connectDocker(), packBuildContext(entries), spec, { onEvent: () => undefined });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function baseImage(): string {
  return process.env.BASE_IMAGE ?? 'ittd/node-base:24-local';
}

/** Points docker-build's image.json at `image`, so the swarm target generates the spec for it. */
function useImage(imageJson: string, image: string): void {
  const built = JSON.parse(readFileSync(imageJson, 'utf8')) as { image: string; tags: string[] };
  writeFileSync(imageJson, JSON.stringify({ ...built, image, tags: [image] }, null, 2));
}

/** Runs a command without blocking the event loop (the load keeps going); resolves with its exit code. */
function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.on('error', () => resolvePromise(1));
    child.on('exit', (code) => resolvePromise(code ?? 1));
  });
}

/** Generates the spec for the current image.json and runs the deploy tool; returns its exit code and seconds. */
async function rollOut(): Promise<{ status: number; seconds: number }> {
  const started = Date.now();
  const generated = await run('npx', [
    'nx',
    'run',
    `${SERVICE}:swarm:${ENVIRONMENT}`,
    '--excludeTaskDependencies',
    '--output-style=stream',
  ]);
  if (generated !== 0) throw new Error(`nx run ${SERVICE}:swarm:${ENVIRONMENT} exited ${generated}`);
  const status = await run('npx', [
    'nx',
    'run',
    `${SERVICE}:deploy:${ENVIRONMENT}`,
    '--excludeTaskDependencies',
    '--output-style=stream',
    '--pollIntervalSeconds=0.5',
    '--timeoutSeconds=240',
  ]);
  return { status, seconds: (Date.now() - started) / 1000 };
}

interface Phase {
  name: string;
  samples: LoadSample[];
}

function row(phase: Phase): string[] {
  const bad = phase.samples.filter(failed);
  const kinds = [...new Set(bad.map((s) => s.error ?? String(s.status)))].join(' ');
  return [
    phase.name,
    String(phase.samples.length),
    String(bad.length),
    `${quantileMs(phase.samples, 0.5).toFixed(1)}`,
    `${quantileMs(phase.samples, 0.99).toFixed(1)}`,
    kinds || '-',
  ];
}

function split(samples: LoadSample[], fromMs: number, toMs: number): LoadSample[] {
  return samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs);
}

async function measuredRollout(
  tokens: string[],
  label: string,
  image: string,
  imageJson: string,
): Promise<{ phases: Phase[]; status: number; seconds: number }> {
  const load: LoadRun = startLoad({
    url: `${BASE_URL}/v1/applets`,
    authorizations: tokens.map((t) => `Bearer ${t}`),
    ratePerLoop: ratePerClient,
    maxRequests: clients * ratePerClient * MAX_PHASE_SECONDS,
    maxSeconds: MAX_PHASE_SECONDS,
  });
  await new Promise((r) => setTimeout(r, steadySeconds * 1000));
  const rolloutStart = load.now();
  useImage(imageJson, image);
  say(`${label}: rolling out ${image} under load`);
  const result = await rollOut();
  const rolloutEnd = load.now();
  await new Promise((r) => setTimeout(r, steadySeconds * 1000));
  const samples = await load.stop();
  return {
    status: result.status,
    seconds: result.seconds,
    phases: [
      { name: `${label}: before`, samples: split(samples, 0, rolloutStart) },
      { name: `${label}: during`, samples: split(samples, rolloutStart, rolloutEnd) },
      { name: `${label}: after`, samples: split(samples, rolloutEnd, Infinity) },
    ],
  };
}

async function main(): Promise<number> {
  const docker = connectDocker();
  const swarm = dockerSwarmApi(docker);
  if ((await swarm.localNodeState()) === 'active' && (await swarm.findService(SWARM_SERVICE))) {
    say(`${SWARM_SERVICE} already runs: the bench starts from scratch; run \`npm run swarm -- down\` first`);
    return 2;
  }
  const descriptor = JSON.parse(readFileSync(join(ROOT, 'apps', SERVICE, 'service.json'), 'utf8')) as {
    env: Record<string, Record<string, unknown>>;
  };
  const adminToken = String(descriptor.env.local.ADMIN_TOKEN);
  const imageJson = join(ROOT, serviceOutputs(SERVICE).docker, 'image.json');
  const savedImageJson = `${imageJson}.bench-saved`;
  const images = ['ittd/applets:bench-release-2', 'ittd/applets:bench-unready'];
  let code = 1;
  try {
    must('bash', ['docker/swarm.sh', 'up']);
    const env = { BASE_IMAGE: baseImage() };
    say('first deploy (bundle, image, swarm spec, deploy: 3 replicas)');
    must(
      'npx',
      ['nx', 'run', `${SERVICE}:deploy:${ENVIRONMENT}`, '--output-style=stream', '--pollIntervalSeconds=0.5'],
      env,
    );
    copyFileSync(imageJson, savedImageJson);
    await buildVariant(images[0], `globalThis.ITTD_RELEASE = 'bench-release-2';\n`);
    await buildVariant(
      images[1],
      // A release whose readiness never passes: its /health/ready answers 503, everything else works.
      `require('http').Server.prototype.emit = ((emit) => function (event, req, res) {\n` +
        `  if (event === 'request' && req.url === '/health/ready') { res.statusCode = 503; res.end(); return true; }\n` +
        `  return emit.apply(this, arguments);\n` +
        `})(require('http').Server.prototype.emit);\n`,
    );
    const tokens: string[] = [];
    for (let i = 0; i < clients; i++) {
      const user = await json('POST', '/admin/users', adminToken, { name: `bench-${i}`, timezone: 'UTC' });
      tokens.push(String(user.token));
    }
    const good = await measuredRollout(tokens, 'new image', images[0], imageJson);
    const bad = await measuredRollout(tokens, 'never ready', images[1], imageJson);
    const service = await swarm.findService(SWARM_SERVICE);

    const header = ['phase', 'sent', 'failed', 'p50 ms', 'p99 ms', 'failures'];
    const rows = [...good.phases, ...bad.phases].map(row);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
    const sum = (phases: Phase[], pick: (s: LoadSample) => boolean) =>
      phases.reduce((n, p) => n + p.samples.filter(pick).length, 0);
    const rolledBack =
      bad.status !== 0 &&
      service?.UpdateStatus?.State === 'rollback_completed' &&
      service.Spec.TaskTemplate.ContainerSpec.Image === images[0];
    console.log(
      `new image: deploy exit ${good.status}, ${good.seconds.toFixed(1)} s; never-ready image: deploy exit ${bad.status} ` +
        `after ${bad.seconds.toFixed(1)} s, swarm update ${service?.UpdateStatus?.State}, running ${service?.Spec.TaskTemplate.ContainerSpec.Image}`,
    );
    const result = {
      requests_sent: sum(good.phases, () => true),
      requests_failed: sum(good.phases, failed),
      rollback_requests_sent: sum(bad.phases, () => true),
      rollback_requests_failed: sum(bad.phases, failed),
      rollout_s: Number(good.seconds.toFixed(1)),
      rollback_s: Number(bad.seconds.toFixed(1)),
      p99_during_ms: Number(quantileMs(good.phases[1].samples, 0.99).toFixed(1)),
      p99_before_ms: Number(quantileMs(good.phases[0].samples, 0.99).toFixed(1)),
      rollout_exit: good.status,
      rollback_exit: bad.status,
      rolled_back: rolledBack,
      clients,
      rate_per_client: ratePerClient,
    };
    code =
      result.requests_failed === 0 && result.rollback_requests_failed === 0 && good.status === 0 && rolledBack
        ? 0
        : 1;
    console.log(JSON.stringify(result));
  } catch (error) {
    console.error(`bench:deploy failed: ${(error as Error).message}`);
  } finally {
    if (existsSync(savedImageJson)) {
      copyFileSync(savedImageJson, imageJson);
      rmSync(savedImageJson);
    }
    sh('bash', ['docker/swarm.sh', 'down']);
    for (const image of images)
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
  }
  return code;
}

void main().then((code) => process.exit(code));
