/**
 * Runs the deploy against the fake Marathon of the tests, to show (and copy into the READMEs) what a
 * deploy prints: progress, the async mode, a rollback and the history. Not a test.
 *
 * @example
 * // npx tsx tools/nx-plugin/test/deploy/demo/deploy-demo.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDeployCli } from '../../../src/cli/deploy-cli';
import deployExecutor from '../../../src/executors/deploy/executor';
import { MarathonClient } from '../../../src/marathon-client/marathon-client';
import { notifierDescriptor } from '../../support/fixtures';
import { startFakeMesosFrameworks } from '../support/fake-mesos-frameworks';
import { readManifest, seedPreviousRelease } from '../support/release-fixtures';
import { generatedService } from '../support/service-workspace';

async function main(): Promise<void> {
  const fake = await startFakeMesosFrameworks({ lockedPuts: 0, tickMs: 150, healthyAfterTicks: 3 });
  const ws = await generatedService('notifier', notifierDescriptor, 'production');
  process.env.MARATHON_URL = fake.url;
  process.env.GITHUB_ACTOR = 'octocat';
  process.env.CI = 'true';
  const options = {
    environment: 'production',
    marathonUrl: fake.url,
    metronomeUrl: fake.url,
    pollIntervalSeconds: 0.2,
  };
  try {
    const apps = [readManifest(ws.root, 'notifier', 'web'), readManifest(ws.root, 'notifier', 'worker')];
    seedPreviousRelease(fake, apps, 'notifier');
    console.log('\n$ npx nx deploy notifier --dryRun');
    await deployExecutor({ ...options, dryRun: true }, ws.context);
    console.log('\n$ npx nx deploy notifier');
    await deployExecutor(options, ws.context);
    console.log('\n$ npx nx deploy notifier   # again: nothing changed');
    await deployExecutor(options, ws.context);

    const web = readManifest(ws.root, 'notifier', 'web');
    web.container.docker.image = 'registry.example.com/ittd/notifier:bad0bad';
    web.labels['ittd.git-sha'] = 'bad0bad';
    fake.behaviour.images = { [web.container.docker.image]: 'crash' };
    fake.behaviour.rollbackDelayTicks = 2;
    writeFileSync(join(ws.root, 'dist/deploy/notifier/marathon/web.json'), JSON.stringify(web));
    console.log('\n$ npx nx deploy notifier   # a release whose web process crash-loops');
    await deployExecutor(options, ws.context);

    fake.behaviour.images = {};
    web.instances = 5;
    web.container.docker.image = 'registry.example.com/ittd/notifier:abc123';
    web.labels['ittd.git-sha'] = 'abc123';
    writeFileSync(join(ws.root, 'dist/deploy/notifier/marathon/web.json'), JSON.stringify(web));
    console.log('\n$ npx nx deploy notifier --noWait');
    await deployExecutor({ ...options, noWait: true }, ws.context);
    const ids = (await new MarathonClient({ baseUrl: fake.url }).getDeployments()).map((d) => d.id);
    console.log(`\n$ npx tsx tools/nx-plugin/src/cli/deploy-cli.ts status ${ids.join(' ')}`);
    await runDeployCli(['status', ...ids, '--poll-interval-seconds=0.2']);
    console.log('\n$ npx tsx tools/nx-plugin/src/cli/deploy-cli.ts history notifier');
    await runDeployCli(['history', 'notifier']);
  } finally {
    ws.remove();
    await fake.close();
  }
}

void main();
