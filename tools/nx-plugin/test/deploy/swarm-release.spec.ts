import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceDescriptor } from '../../src/descriptor/service-descriptor';
import { buildImage } from '../../src/docker/docker-engine';
import { packBuildContext } from '../../src/docker/build-context';
import { systemClock } from '../../src/executors/deploy/follow-deployment';
import type { LiveProgress } from '../../src/executors/deploy/progress-log';
import { swarmDeployHistory, swarmDeployStatus } from '../../src/executors/deploy/swarm-commands';
import { planSwarmDeploy } from '../../src/executors/deploy/swarm-plan';
import { runSwarmRelease, type SwarmReleaseDeps } from '../../src/executors/deploy/swarm-release';
import {
  buildSwarmService,
  swarmNetworkName,
  type SwarmServiceSpec,
} from '../../src/manifests/swarm-service';
import { dockerSwarmApi } from '../../src/swarm-client/swarm-api';
import { ensureBaseImage, LOCAL_BASE_IMAGE } from '../docker/engine-fixtures';

// A real single-node Docker Swarm (initialised here when the engine is not in one, and left again at the
// end), a tiny fixture image, and the release logic of `nx deploy -c <env>-swarm` against it.

const docker = new Docker();
const swarm = dockerSwarmApi(docker);
const run = randomUUID().slice(0, 8);
const ENVIRONMENT = `test${run}-swarm`;
const IMAGE = `ittd/swarm-fixture:${run}`;
const SECRET_VALUE = `s3cret-${run}`;
let initialisedHere = false;

/** The fixture: serves /health/ready (503 with NEVER_READY), exits 3 at once with CRASH, checks its secret file. */
const SERVER = `
const fs = require('fs');
if (process.env.CRASH) { console.error('fixture: crashing on purpose'); process.exit(3); }
if (process.env.TOKEN_FILE && fs.readFileSync(process.env.TOKEN_FILE, 'utf8') !== process.env.EXPECT_TOKEN) {
  console.error('fixture: the secret file does not hold the expected value'); process.exit(4);
}
require('http').createServer((req, res) => {
  res.statusCode = req.url === '/health/ready' && process.env.NEVER_READY ? 503 : 200;
  res.end('ok');
}).listen(Number(process.env.PORT || 8080));
setInterval(() => {}, 1000);
process.on('SIGTERM', () => process.exit(0));
`;

const descriptor = (
  env: Record<string, string> = {},
  workerEnv: Record<string, string> = {},
): ServiceDescriptor => ({
  processes: {
    web: { args: [], port: 8080, instances: 2, resources: { cpus: 0.2, mem: 64 } },
    worker: { args: ['worker'], instances: 1, resources: { cpus: 0.2, mem: 64 } },
  },
  env: {
    [ENVIRONMENT]: { TOKEN: { secret: 'token' }, EXPECT_TOKEN: SECRET_VALUE, ...env, ...workerEnv },
  },
});

/** The specs of both processes, made quick for a test: checks every second, short start and monitor windows. */
function specs(env: Record<string, string> = {}, workerEnv: Record<string, string> = {}): SwarmServiceSpec[] {
  return ['web', 'worker'].map((process) => {
    const d = descriptor(env, process === 'worker' ? workerEnv : {});
    const spec = buildSwarmService(d, process, {
      service: 'fixture',
      image: IMAGE,
      environment: ENVIRONMENT,
      gitSha: 'abc1234',
    });
    const check = spec.TaskTemplate.ContainerSpec.Healthcheck;
    if (check) Object.assign(check, { Interval: 1e9, StartPeriod: 2e9, Retries: 2, Timeout: 1e9 });
    spec.UpdateConfig.Monitor = 3e9;
    spec.RollbackConfig.Monitor = 3e9;
    spec.TaskTemplate.ContainerSpec.StopGracePeriod = 2e9;
    return spec;
  });
}

function plan(list: SwarmServiceSpec[]) {
  const files = list.map((spec) => ({
    file: `${spec.Labels['ittd.process']}.json`,
    name: spec.Labels['ittd.process'],
    content: spec,
  }));
  const planned = planSwarmDeploy('fixture', files, { environment: ENVIRONMENT, allowDowntime: false });
  expect(planned.problems).toEqual([]);
  return planned.plan;
}

const lines: string[] = [];
const progress: LiveProgress = {
  update: () => undefined,
  log: (subject, message) => lines.push(`${subject}: ${message}`),
};
const deps = (wait = true): SwarmReleaseDeps => ({
  swarm,
  clock: systemClock,
  progress,
  timeoutMs: 90_000,
  pollIntervalMs: 250,
  wait,
  who: 'vitest',
  newId: randomUUID,
});

async function envOf(process: string): Promise<string[]> {
  const service = await swarm.findService(`${ENVIRONMENT}-fixture-${process}`);
  return service?.Spec.TaskTemplate.ContainerSpec.Env ?? [];
}

beforeAll(async () => {
  ensureBaseImage();
  if ((await swarm.localNodeState()) !== 'active') {
    await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
    initialisedHere = true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'swarm-fixture-'));
  writeFileSync(
    join(dir, 'Dockerfile'),
    `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nCOPY server.js /srv/server.js\nENTRYPOINT ["node", "/srv/server.js"]\n`,
  );
  writeFileSync(join(dir, 'server.js'), SERVER);
  const context = [
    { name: 'Dockerfile', source: join(dir, 'Dockerfile') },
    { name: 'server.js', source: join(dir, 'server.js') },
  ];
  await buildImage(
    docker,
    packBuildContext(context),
    {
      repository: 'ittd/swarm-fixture',
      exactTag: IMAGE,
      tags: [IMAGE],
      labels: {},
      buildArgs: { BASE_IMAGE: LOCAL_BASE_IMAGE },
      context,
    },
    { onEvent: () => undefined },
  );
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

afterAll(async () => {
  const services = (await docker.listServices({
    filters: { label: [`ittd.environment=${ENVIRONMENT}`] },
  })) as { ID: string }[];
  for (const s of services)
    await docker
      .getService(s.ID)
      .remove()
      .catch(() => undefined);
  const configs = await swarm.listConfigs({ 'ittd.deploy.environment': ENVIRONMENT });
  for (const c of configs) await swarm.removeConfig(c.ID).catch(() => undefined);
  const secrets = (await docker.listSecrets({ filters: { name: [ENVIRONMENT] } })) as { ID: string }[];
  for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.swarm.service.name`] },
    });
    if (!left.some((c) => (c.Labels['com.docker.swarm.service.name'] ?? '').startsWith(ENVIRONMENT))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  for (const s of secrets)
    await docker
      .getSecret(s.ID)
      .remove()
      .catch(() => undefined);
  await docker
    .getNetwork(swarmNetworkName(ENVIRONMENT))
    .remove()
    .catch(() => undefined);
  if (initialisedHere) await docker.swarmLeave({ force: true });
  await docker
    .getImage(IMAGE)
    .remove()
    .catch(() => undefined);
}, 120_000);

describe('a release to a real Docker Swarm', () => {
  it('stops before sending anything when a Docker secret is missing', async () => {
    await expect(runSwarmRelease(plan(specs()), deps())).rejects.toThrow(
      new RegExp(`no secret ${ENVIRONMENT}-fixture-token`),
    );
    expect(await swarm.findService(`${ENVIRONMENT}-fixture-web`)).toBeUndefined();
  });

  it('creates both processes, with the secret mounted, verified healthy; a second deploy sends nothing', async () => {
    await docker.createSecret({
      Name: `${ENVIRONMENT}-fixture-token`,
      Data: Buffer.from(SECRET_VALUE).toString('base64'),
    });
    const first = await runSwarmRelease(plan(specs()), deps());
    expect(first.message).toBeUndefined();
    expect(first.record.outcome).toBe('succeeded');
    expect(first.record.apps.map((a) => a.process)).toEqual(['web', 'worker']);
    const web = await swarm.findService(`${ENVIRONMENT}-fixture-web`);
    const tasks = await swarm.listTasks(web?.ID ?? '');
    expect(tasks.filter((t) => t.DesiredState === 'running' && t.Status.State === 'running')).toHaveLength(2);

    const again = await runSwarmRelease(plan(specs()), deps());
    expect(again.record.outcome).toBe('unchanged');
    expect((await swarm.findService(`${ENVIRONMENT}-fixture-web`))?.Version.Index).toBe(web?.Version.Index);
  });

  it('rolls an update out and verifies it; an update whose readiness never passes is rolled back by Swarm', async () => {
    const good = await runSwarmRelease(plan(specs({ RELEASE: '2' })), deps());
    expect(good.record.outcome).toBe('succeeded');
    expect(await envOf('web')).toContain('RELEASE=2');

    const bad = await runSwarmRelease(plan(specs({ RELEASE: '3', NEVER_READY: '1' })), deps());
    expect(bad.success).toBe(false);
    expect(bad.record.outcome).toBe('rolled-back');
    expect(bad.message).toMatch(/web\.json: rolled back by Swarm/);
    // Both processes are back on release 2: the web update was rolled back by Swarm, the worker never sent.
    expect(await envOf('web')).toContain('RELEASE=2');
    expect(await envOf('worker')).toContain('RELEASE=2');
  }, 120_000);

  it('a process failing after another was deployed brings that one back too (all or nothing)', async () => {
    const result = await runSwarmRelease(plan(specs({ RELEASE: '4' }, { CRASH: '1' })), deps());
    expect(result.success).toBe(false);
    expect(result.message).toMatch(/worker\.json: rolled back by Swarm/);
    expect(result.message).toMatch(/web: rolled back to its previous spec/);
    expect(await envOf('web')).toContain('RELEASE=2');
    expect(await envOf('worker')).not.toContain('CRASH=1');
  }, 120_000);

  it('removes a new service that crash-loops, naming its exit and its last log line', async () => {
    const crashing = specs({}, {}).map((spec) => ({
      ...spec,
      Name: spec.Name.replace('-fixture-', '-crasher-'),
      TaskTemplate: {
        ...spec.TaskTemplate,
        ContainerSpec: {
          ...spec.TaskTemplate.ContainerSpec,
          Env: [...spec.TaskTemplate.ContainerSpec.Env, 'CRASH=1'],
        },
      },
    }));
    const result = await runSwarmRelease(plan(crashing.slice(0, 1)), deps());
    expect(result.success).toBe(false);
    expect(result.message).toMatch(/crash loop \(\d+ failed tasks\).*exit code 3.*removed/s);
    expect(result.message).toMatch(/fixture: crashing on purpose/);
    expect(await swarm.findService(crashing[0].Name)).toBeUndefined();
  }, 120_000);

  it('submits without waiting, then `deploy status <id>` follows it to its outcome; history lists every deploy', async () => {
    const submitted = await runSwarmRelease(plan(specs({ RELEASE: '5' })), deps(false));
    expect(submitted.record.outcome).toBe('submitted');
    const printed: string[] = [];
    const ok = await swarmDeployStatus([submitted.record.id], ENVIRONMENT, {
      ...deps(),
      print: (l) => printed.push(l),
    });
    expect(ok).toBe(true);
    expect(printed.join('\n')).toMatch(new RegExp(`deploy ${submitted.record.id}: succeeded`));
    expect(await envOf('worker')).toContain('RELEASE=5');

    const history: string[] = [];
    await swarmDeployHistory('fixture', ENVIRONMENT, 20, { ...deps(), print: (l) => history.push(l) });
    const outcomes = history
      .slice(1)
      .filter((l) => !l.startsWith('    reason'))
      .map((l) => l.split(/\s+/)[1]);
    // Newest first: the followed release, the crash loop, the worker, the never-ready web, release 2, the
    // unchanged second deploy, the create (the refused one sent nothing and recorded nothing).
    expect(outcomes).toEqual([
      'succeeded',
      'rolled-back',
      'rolled-back',
      'rolled-back',
      'succeeded',
      'unchanged',
      'succeeded',
    ]);
  }, 120_000);
});
