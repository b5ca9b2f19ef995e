import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planDeploy } from '../../src/executors/deploy/deploy-plan';
import { systemClock } from '../../src/executors/deploy/follow-deployment';
import { createLiveProgress } from '../../src/executors/deploy/progress-log';
import { runRelease, type ReleaseResult } from '../../src/executors/deploy/rolling-deploy';
import type { ServiceDescriptor } from '../../src/descriptor/service-descriptor';
import { buildMarathonApp } from '../../src/manifests/marathon-app';
import { MarathonClient } from '../../src/marathon-client/marathon-client';
import { context } from '../support/fixtures';
import { startFakeMesosFrameworks, type FakeMesosFrameworks } from './support/fake-mesos-frameworks';

let fake: FakeMesosFrameworks;
beforeEach(async () => {
  fake = await startFakeMesosFrameworks({ lockedPuts: 0, tickMs: 2, healthyAfterTicks: 2 });
});
afterEach(() => fake.close());

/** Services with different shapes and upgrade strategies (some may drop to half capacity while rolling). */
function descriptor(index: number): ServiceDescriptor {
  return {
    processes: {
      web: { args: ['serve'], port: 3000, instances: 2 + (index % 3) },
      worker: {
        args: ['worker'],
        instances: 1 + (index % 2),
        upgrade: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      },
    },
    upgrade: { minimumHealthCapacity: index % 2 === 0 ? 1 : 0.5, maximumOverCapacity: 0.2 },
  };
}

/** Runs `tasks` with at most `limit` at once, as `nx affected -t deploy --parallel=<limit>` does. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe('a fleet deploy', () => {
  it('deploys 20 services at parallel 4: never more than 4 deployments in flight, no app below its minimum healthy', async () => {
    const services = Array.from({ length: 20 }, (_, i) => `svc-${String(i + 1).padStart(2, '0')}`);
    const plans = services.map((service, i) => {
      const build = (image: string) =>
        Object.keys(descriptor(i).processes).map((name) => ({
          file: `dist/deploy/${service}/marathon/${name}.json`,
          name,
          content: buildMarathonApp(
            descriptor(i),
            name,
            context(service, { image, gitSha: image.slice(-7) }),
          ),
        }));
      for (const previous of build(`registry.example.com/ittd/${service}:0ld0ld0`)) {
        fake.seedApp(previous.content as unknown as Record<string, unknown>);
      }
      const manifests = {
        service,
        apps: build(`registry.example.com/ittd/${service}:abc1234`),
        chronosJobs: [],
        metronomeJobs: [],
      };
      return planDeploy(manifests, {
        environment: 'production',
        allowDowntime: true,
        minimumHealthCapacityFloor: 0.5,
        scheduler: 'none',
      });
    });
    const lines: string[] = [];
    const results: ReleaseResult[] = await pool(
      plans.map(
        (plan, i) => () =>
          runRelease(plan, {
            marathon: new MarathonClient({ baseUrl: fake.url }),
            clock: systemClock,
            progress: createLiveProgress({ tty: false, write: (text) => lines.push(text) }),
            timeoutMs: 30_000,
            pollIntervalMs: 5,
            force: false,
            wait: true,
            who: 'octocat (CI)',
            newId: () => `deploy-${i}`,
          }),
      ),
      4,
    );
    expect(results.map((r) => r.record.outcome)).toEqual(Array(20).fill('succeeded'));
    // Bounded: at most 4 at once, and the bound was used (the deploys really overlapped).
    expect(fake.maxDeploymentsInFlight()).toBeLessThanOrEqual(4);
    expect(fake.maxDeploymentsInFlight()).toBeGreaterThan(1);
    expect(Math.max(...fake.timeline.map((s) => s.deploymentsInFlight))).toBeLessThanOrEqual(4);
    // Every app kept its upgradeStrategy capacity at every sampled moment of its replacement.
    const samples = fake.timeline.flatMap((s) => s.replacing);
    expect(new Set(samples.map((s) => s.appId)).size).toBeGreaterThanOrEqual(20);
    const below = samples.filter((s) => s.ready < s.minimumHealthy);
    expect(below).toEqual([]);
    // Each app runs its new version only.
    for (const service of services) {
      for (const process of ['web', 'worker']) {
        const state = fake.appState(`/ittd/production/${service}/${process}`);
        expect(state?.tasks.every((t) => t.version === state.version && t.ready)).toBe(true);
      }
    }
  });
});
