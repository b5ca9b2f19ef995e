import { describe, expect, it } from 'vitest';
import { downtimeRisks, planDeploy, type PlanInput } from '../../src/executors/deploy/deploy-plan';
import { pollDelayMs } from '../../src/executors/deploy/rolling-deploy';
import type { ServiceManifests } from '../../src/executors/deploy/service-manifests';
import { buildChronosJob } from '../../src/manifests/chronos-job';
import { buildMarathonApp, type MarathonApp } from '../../src/manifests/marathon-app';
import { buildMetronomeJob } from '../../src/manifests/metronome-job';
import type { ServiceDescriptor } from '../../src/descriptor/service-descriptor';
import { context, notifierDescriptor } from '../support/fixtures';

const INPUT: PlanInput = {
  environment: 'production',
  allowDowntime: false,
  minimumHealthCapacityFloor: 0.5,
  scheduler: 'metronome',
};

/** The manifests the marathon and chronos targets would write, built in memory (no files, no server). */
function manifests(descriptor: ServiceDescriptor, environment = 'production'): ServiceManifests {
  const ctx = context('notifier', { environment });
  const file = (kind: string, name: string) => `dist/deploy/notifier/${kind}/${name}.json`;
  const jobs = Object.keys(descriptor.jobs ?? {});
  return {
    service: 'notifier',
    // Written in directory order (alphabetical): the planner must still put readiness-checked ones first.
    apps: Object.keys(descriptor.processes)
      .sort()
      .map((name) => ({
        file: file('marathon', name),
        name,
        content: buildMarathonApp(descriptor, name, ctx),
      })),
    chronosJobs:
      environment === 'staging'
        ? jobs.map((name) => ({
            file: file('chronos', name),
            name,
            content: buildChronosJob(descriptor, name, ctx),
          }))
        : [],
    metronomeJobs: jobs.map((name) => ({
      file: file('metronome', name),
      name,
      content: buildMetronomeJob(descriptor, name, ctx),
    })),
  };
}

describe('planDeploy', () => {
  it('deploys readiness-checked processes first, then the others, then the jobs', () => {
    const descriptor: ServiceDescriptor = {
      ...notifierDescriptor,
      processes: {
        ...notifierDescriptor.processes,
        api: { args: ['api'], port: 8081 },
        beat: { args: ['beat'] },
      },
    };
    const plan = planDeploy(manifests(descriptor), INPUT);
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((s) => `${s.kind}:${s.name}`)).toEqual([
      'marathon-app:api',
      'marathon-app:web',
      'marathon-app:beat',
      'marathon-app:worker',
      'metronome-job:purge-deliveries',
      'metronome-job:retry-failed',
      'metronome-job:weekly-report',
    ]);
  });

  it('accepts the generated manifests as they are: minimumHealthCapacity 1 and readiness checks', () => {
    for (const app of manifests(notifierDescriptor).apps) expect(downtimeRisks(app.content, 1)).toEqual([]);
  });

  it('refuses an upgrade that may drop capacity, or HTTP without readiness checks, unless allowed', () => {
    const web = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));
    const risky: MarathonApp = {
      ...web,
      upgradeStrategy: { minimumHealthCapacity: 0.25, maximumOverCapacity: 0 },
      readinessChecks: undefined,
    };
    expect(downtimeRisks(risky, 0.5)).toEqual([
      'upgradeStrategy.minimumHealthCapacity 0.25 is below the floor 0.5: Marathon may keep only 1 of 4 instances during the upgrade',
      'it serves HTTP without readinessChecks: old tasks would be killed before new ones are ready',
    ]);
    const input = manifests(notifierDescriptor);
    input.apps[0] = { ...input.apps[0], content: risky };
    expect(planDeploy(input, INPUT).problems).toHaveLength(2);
    const allowed = planDeploy(input, { ...INPUT, allowDowntime: true });
    expect(allowed.problems).toEqual([]);
    expect(allowed.warnings).toHaveLength(2);
  });

  it('sends jobs to the one scheduler configured, and says what is missing otherwise', () => {
    expect(planDeploy(manifests(notifierDescriptor), { ...INPUT, scheduler: 'none' }).problems).toEqual([
      'notifier has scheduled jobs (purge-deliveries, retry-failed, weekly-report): set METRONOME_URL or CHRONOS_URL',
    ]);
    // Production needs secrets: no Chronos form was generated.
    expect(planDeploy(manifests(notifierDescriptor), { ...INPUT, scheduler: 'chronos' }).problems).toContain(
      'job retry-failed has no Chronos form (it needs secrets): deploy jobs with METRONOME_URL instead',
    );
    const staging = { ...notifierDescriptor, env: { staging: { LOG_LEVEL: 'debug' } } };
    const plan = planDeploy(manifests(staging, 'staging'), {
      ...INPUT,
      environment: 'staging',
      scheduler: 'chronos',
    });
    expect(plan.problems).toEqual([]);
    expect(plan.steps.filter((s) => s.kind === 'chronos-job')).toHaveLength(3);
  });

  it('refuses manifests of another environment', () => {
    const plan = planDeploy(manifests(notifierDescriptor, 'staging'), INPUT);
    expect(plan.problems).toContain(
      'dist/deploy/notifier/marathon/web.json was generated for staging, not production: ' +
        'run `nx deploy notifier -c production` so the marathon and chronos targets generate for it',
    );
  });
});

describe('pollDelayMs', () => {
  it('doubles from the first interval up to 10 s', () => {
    expect([0, 1, 2, 3, 4, 10].map((attempt) => pollDelayMs(attempt, 2000))).toEqual([
      2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
    expect(pollDelayMs(3, 20_000)).toBe(20_000);
  });
});
