import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runDeployCli } from '../../src/cli/deploy-cli';
import deployExecutor from '../../src/executors/deploy/executor';
import type { DeployOptions } from '../../src/executors/deploy/deploy-options';
import {
  deployHistory,
  deployStatus,
  deployWatch,
  type CommandDeps,
} from '../../src/executors/deploy/deploy-commands';
import { readRecord, recordAppId } from '../../src/executors/deploy/deploy-record';
import { systemClock } from '../../src/executors/deploy/follow-deployment';
import { createLiveProgress } from '../../src/executors/deploy/progress-log';
import { MarathonClient } from '../../src/marathon-client/marathon-client';
import { notifierDescriptor } from '../support/fixtures';
import { captureConsole } from './support/capture-console';
import { startFakeMesosFrameworks, type FakeMesosFrameworks } from './support/fake-mesos-frameworks';
import { startFakeRegistry } from './support/fake-registry';
import { NEW_IMAGE, OLD_IMAGE, readManifest, seedPreviousRelease } from './support/release-fixtures';
import { generatedService, type ServiceWorkspace } from './support/service-workspace';

const WEB = '/ittd/production/notifier/web';
const WORKER = '/ittd/production/notifier/worker';
const FAST = { pollIntervalSeconds: 0.005, timeoutSeconds: 20 };

let fake: FakeMesosFrameworks;
let production: ServiceWorkspace;

beforeAll(async () => {
  production = await generatedService('notifier', notifierDescriptor, 'production');
});
afterAll(() => production.remove());

beforeEach(async () => {
  for (const name of [
    'MARATHON_URL',
    'CHRONOS_URL',
    'METRONOME_URL',
    'MARATHON_TOKEN',
    'ITTD_REGISTRY',
    'ITTD_REGISTRY_URL',
    'GITHUB_ACTOR',
  ]) {
    vi.stubEnv(name, '');
  }
  vi.stubEnv('GITHUB_ACTOR', 'octocat');
  fake = await startFakeMesosFrameworks({ lockedPuts: 0, tickMs: 2, healthyAfterTicks: 2 });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await fake.close();
});

function deploy(ws: ServiceWorkspace, options: Partial<DeployOptions> = {}) {
  return captureConsole(() =>
    deployExecutor(
      { environment: 'production', marathonUrl: fake.url, metronomeUrl: fake.url, ...FAST, ...options },
      ws.context,
    ),
  );
}

const manifest = (process: string) => readManifest(production.root, 'notifier', process);
const seed = () => seedPreviousRelease(fake, [manifest('web'), manifest('worker')], 'notifier');
const appPuts = () => fake.requests.filter((r) => r.method === 'PUT' && r.url.startsWith('/v2/apps/ittd/'));
const marathon = () => new MarathonClient({ baseUrl: fake.url });

async function records() {
  const id = recordAppId('production', 'notifier');
  const versions = await marathon().getAppVersions(id);
  return Promise.all(
    versions.map(async (v) =>
      readRecord((await marathon().getAppVersion(id, v)).labels as Record<string, string>),
    ),
  );
}

function commandDeps(lines: string[]): CommandDeps {
  return {
    marathon: marathon(),
    clock: systemClock,
    progress: createLiveProgress({ tty: false, write: (text) => lines.push(text.trimEnd()) }),
    timeoutMs: 20_000,
    pollIntervalMs: 5,
    force: false,
    wait: true,
    who: 'octocat (CI)',
    newId: () => 'unused',
    print: (line) => lines.push(line),
  };
}

describe('a verified release', () => {
  it('fails fast on a crash loop (lastTaskFailure of the new version), rolls back, waits for it, exits non-zero', async () => {
    const before = seed();
    fake.behaviour.images = { [NEW_IMAGE('notifier')]: 'crash' };
    fake.behaviour.rollbackDelayTicks = 10;
    // A deadline of 20 s: the failure must come from the crash loop, not from waiting it out.
    const { result, output } = await deploy(production);
    expect(result.success).toBe(false);
    expect(output).toMatch(
      /crash loop of version \S+: lastTaskFailure: task \S+ \(version \S+\) TASK_FAILED on agent-\d: Command exited with status 1/,
    );
    expect(output).not.toContain('did not finish within');
    expect(fake.deleted).toEqual([{ id: expect.any(String), force: false }]);
    expect(output).toMatch(/rolled back by deployment \S+: runs version \S+, 4\/4 healthy/);
    const web = fake.appState(WEB);
    expect(web?.version).toBe(before.get(WEB));
    expect(web?.tasks.every((t) => t.version === before.get(WEB) && t.ready)).toBe(true);
    // The worker never got the bad release.
    expect(appPuts().map((r) => r.url)).toEqual([`/v2/apps${WEB}?partialUpdate=false`]);
    expect(fake.appState(WORKER)?.version).toBe(before.get(WORKER));
    const [last] = await records();
    expect(last).toMatchObject({ outcome: 'rolled-back', who: 'octocat (CI)', image: NEW_IMAGE('notifier') });
    expect(last?.reason).toContain('lastTaskFailure');
  });

  it('restores the processes already deployed when a later one fails: the release is all or nothing', async () => {
    const before = seed();
    fake.behaviour.images = { [`${WORKER} ${NEW_IMAGE('notifier')}`]: 'crash' };
    const { result, output } = await deploy(production);
    expect(result.success).toBe(false);
    // web went out and was verified, then worker crashed and was rolled back by Marathon...
    expect(output).toMatch(/notifier\/web: version \S+ verified: 4\/4 healthy/);
    expect(output).toMatch(/notifier\/worker: crash loop/);
    // ...and web got back the definition read before its PUT (the previous image and labels).
    const puts = appPuts();
    expect(puts.map((r) => r.url)).toEqual([
      `/v2/apps${WEB}?partialUpdate=false`,
      `/v2/apps${WORKER}?partialUpdate=false`,
      `/v2/apps${WEB}?partialUpdate=false&force=true`,
    ]);
    const restore = puts[2].body as {
      container: { docker: { image: string } };
      labels: Record<string, string>;
    };
    expect(restore.container.docker.image).toBe(OLD_IMAGE('notifier'));
    expect(restore.labels['ittd.git-sha']).toBe('0ld0ld0');
    expect(output).toMatch(
      new RegExp(
        `notifier/web: restored to the definition of version ${before.get(WEB)} \\(now version \\S+, 4/4 healthy\\)`,
      ),
    );
    for (const id of [WEB, WORKER]) {
      const state = fake.appState(id);
      expect(state?.tasks.every((t) => t.ready)).toBe(true);
      expect(fake.apps.get(id) === undefined || state !== undefined).toBe(true);
    }
    expect(fake.apps.get(WEB)).toMatchObject({ container: { docker: { image: OLD_IMAGE('notifier') } } });
    expect((await records())[0]).toMatchObject({ outcome: 'rolled-back' });
  });

  it('sends nothing for apps that already run the generated definition, and says "unchanged"', async () => {
    fake.seedApp(manifest('web') as unknown as Record<string, unknown>);
    fake.seedApp(manifest('worker') as unknown as Record<string, unknown>);
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);
    expect(appPuts()).toEqual([]);
    expect(output).toMatch(/notifier\/web: unchanged \(version \S+, 4\/4 healthy\): not sent/);
    expect(output).toMatch(/notifier\/worker: unchanged \(version \S+, 2\/2 running\): not sent/);
    expect(output).toContain('notifier: unchanged in production');
    expect((await records())[0]).toMatchObject({ outcome: 'unchanged' });
  });

  it('fails, without rolling back, when another deployment replaced ours', async () => {
    seed();
    fake.behaviour.replaceNextDeployment = true;
    const { result, output } = await deploy(production);
    expect(result.success).toBe(false);
    expect(output).toMatch(/runs version \S+, not the version sent \S+: another deployment replaced it/);
    expect(fake.deleted).toEqual([]);
    expect(appPuts()).toHaveLength(1);
  });

  it('asks again through dropped connections and verifies', async () => {
    seed();
    fake.behaviour.droppedConnections = 3;
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);
    expect(fake.behaviour.droppedConnections).toBe(0);
    expect(output).toContain('could not read Marathon');
  });

  it('shows the slow step while it runs and still verifies', async () => {
    seed();
    fake.behaviour.slowStepTicks = 5;
    const { result, output } = await deploy(production);
    expect(result.success, output).toBe(true);
    expect(output).toMatch(/notifier\/web: \d\/4 new ready, 4\/4 healthy, step 1\/1 RestartApplication/);
  });

  it('submits with --no-wait and prints the deployment ids; `deploy status` follows them with the same verification', async () => {
    seed();
    fake.behaviour.slowStepTicks = 3;
    const submitted = await deploy(production, { noWait: true });
    expect(submitted.result.success, submitted.output).toBe(true);
    const ids = /deployment ids: ([0-9a-f -]+)/.exec(submitted.output)?.[1].trim().split(' ') ?? [];
    expect(ids).toHaveLength(2);
    expect((await records())[0]).toMatchObject({ outcome: 'submitted' });
    const lines: string[] = [];
    expect(await deployStatus(ids, commandDeps(lines)), lines.join('\n')).toBe(true);
    expect(lines.join('\n')).toMatch(/notifier\/web: version \S+ verified: 4\/4 healthy/);
    expect(lines.join('\n')).toMatch(/notifier \(production\) deploy \S+: succeeded/);
    expect((await records())[0]).toMatchObject({ outcome: 'succeeded' });
    // Nothing left to follow.
    const watched: string[] = [];
    expect(await deployWatch('production', commandDeps(watched))).toBe(true);
    expect(watched).toEqual(['no deploy in flight in production']);
  });

  it('`deploy watch` rolls back a submitted release whose new version crash-loops, restoring the other process', async () => {
    const before = seed();
    fake.behaviour.images = { [`${WEB} ${NEW_IMAGE('notifier')}`]: 'crash' };
    const submitted = await deploy(production, { noWait: true });
    expect(submitted.result.success, submitted.output).toBe(true);
    const lines: string[] = [];
    expect(await deployWatch('production', commandDeps(lines))).toBe(false);
    const output = lines.join('\n');
    expect(output).toMatch(/lastTaskFailure/);
    expect(output).toMatch(/notifier \(production\) deploy \S+: rolled-back/);
    await fake.settled();
    expect(fake.appState(WEB)?.version).toBe(before.get(WEB));
    // worker went back to its previous definition (read from Marathon's app versions).
    expect(fake.apps.get(WORKER)).toMatchObject({ container: { docker: { image: OLD_IMAGE('notifier') } } });
  });

  it('`deploy history` reads the deploys back from Marathon: who, outcome, image tag, versions', async () => {
    seed();
    expect((await deploy(production)).result.success).toBe(true);
    const broken = 'registry.example.com/ittd/notifier:bad0bad';
    fake.behaviour.images = { [broken]: 'crash' };
    const changed = await generatedService('notifier', notifierDescriptor, 'production');
    try {
      const web = readManifest(changed.root, 'notifier', 'web');
      web.container.docker.image = broken;
      writeFileSync(join(changed.root, 'dist/deploy/notifier/marathon/web.json'), JSON.stringify(web));
      expect((await deploy(changed)).result.success).toBe(false);
    } finally {
      changed.remove();
    }
    const lines: string[] = [];
    expect(await deployHistory('notifier', 'production', 10, commandDeps(lines))).toBe(true);
    expect(lines[0]).toMatch(
      /^when\s+outcome\s+duration\s+who\s+tag\s+git sha\s+processes \(Marathon version\)$/,
    );
    expect(lines[1]).toMatch(
      /^\S+Z\s+rolled-back\s+\d+\.\d s\s+octocat \(CI\)\s+bad0bad\s+abc123\s+web@\S+ worker@\S+$/,
    );
    expect(lines[2]).toMatch(/reason: .*lastTaskFailure/);
    expect(lines[3]).toMatch(
      /^\S+Z\s+succeeded\s+\d+\.\d s\s+octocat \(CI\)\s+abc123\s+abc123\s+web@\S+ worker@\S+$/,
    );
    expect(lines).toHaveLength(4);
  });

  it('the deploy command line: history from $MARATHON_URL, usage and exit code 2 on a bad command', async () => {
    seed();
    expect((await deploy(production)).result.success).toBe(true);
    vi.stubEnv('MARATHON_URL', fake.url);
    const lines: string[] = [];
    expect(await runDeployCli(['history', 'notifier'], (line) => lines.push(line))).toBe(0);
    expect(lines[1]).toMatch(/succeeded\s+\d+\.\d s\s+octocat \(CI\)\s+abc123/);
    const usage: string[] = [];
    expect(await runDeployCli(['history'], (line) => usage.push(line))).toBe(2);
    expect(usage.join('\n')).toContain('usage: deploy status <deployment id...>');
    const unknown: string[] = [];
    expect(await runDeployCli(['status', 'no-such-deployment'], (line) => unknown.push(line))).toBe(1);
    expect(unknown[0]).toContain('no-such-deployment: no deploy record names this deployment');
  });

  it('refuses an image the registry does not have (HEAD /v2/<name>/manifests/<tag>), sending nothing', async () => {
    const registry = await startFakeRegistry([], 'ci:secret');
    vi.stubEnv('ITTD_REGISTRY_USERNAME', 'ci');
    vi.stubEnv('ITTD_REGISTRY_PASSWORD', 'secret');
    try {
      const refused = await deploy(production, { registryUrl: registry.url });
      expect(refused.result.success).toBe(false);
      expect(refused.output).toContain(`the registry ${registry.url} has no ${NEW_IMAGE('notifier')}`);
      expect(refused.output).toContain('ITTD_PUSH=1 npx nx run notifier:docker-build');
      expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      expect(registry.requests).toEqual([
        {
          method: 'HEAD',
          url: '/v2/ittd/notifier/manifests/abc123',
          authorization: `Basic ${Buffer.from('ci:secret').toString('base64')}`,
        },
      ]);

      registry.tags.add('ittd/notifier:abc123');
      const pushed = await deploy(production, { registryUrl: registry.url });
      expect(pushed.result.success, pushed.output).toBe(true);
    } finally {
      await registry.close();
    }
  });

  it('refuses an image built from a dirty tree outside local', async () => {
    const dirty = await generatedService('notifier', notifierDescriptor, 'production');
    try {
      const web = readManifest(dirty.root, 'notifier', 'web');
      web.container.docker.image = 'registry.example.com/ittd/notifier:abc123-dirty-0f1e2d3c4b5a';
      writeFileSync(join(dirty.root, 'dist/deploy/notifier/marathon/web.json'), JSON.stringify(web));
      const { result, output } = await deploy(dirty);
      expect(result.success).toBe(false);
      expect(output).toContain('built from a working tree with uncommitted changes');
      expect(fake.requests).toEqual([]);
    } finally {
      dirty.remove();
    }
  });

  it('shows a readable diff against the live apps in a dry run', async () => {
    seed();
    const { result, output } = await deploy(production, { dryRun: true });
    expect(result.success, output).toBe(true);
    expect(output).toContain('notifier/web: 2 change(s) to version');
    expect(output).toContain('notifier/worker: 2 change(s) to version');
    expect(output).toContain(
      '  ~ container.docker.image: "registry.example.com/ittd/notifier:0ld0ld0" -> "registry.example.com/ittd/notifier:abc123"',
    );
    expect(output).toContain('  ~ labels.ittd.git-sha: "0ld0ld0" -> "abc123"');
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
