import { describe, expect, it } from 'vitest';
import { crashLoop, healthSummary, verifyDeployedApp } from '../../src/executors/deploy/app-verdict';
import { diffDefinitions, formatChanges, liveDefinition } from '../../src/executors/deploy/definition-diff';
import { registryEndpoint } from '../../src/executors/deploy/deploy-options';
import { planDeploy } from '../../src/executors/deploy/deploy-plan';
import {
  formatHistory,
  historyOf,
  readRecord,
  recordAppDefinition,
  recordLabels,
  type DeployRecord,
} from '../../src/executors/deploy/deploy-record';
import { createLiveProgress } from '../../src/executors/deploy/progress-log';
import { buildMarathonApp } from '../../src/manifests/marathon-app';
import type { MarathonAppStatus } from '../../src/marathon-client/marathon-client';
import { parseImageReference } from '../../src/marathon-client/registry-client';
import { context, notifierDescriptor } from '../support/fixtures';
import { validateMarathonApp } from '../support/reference-schemas';

const app = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));
const V1 = '2026-01-01T10:00:00.000Z';
const V2 = '2026-01-01T11:00:00.000Z';

/** What Marathon answers for `app` running at `version`: defaults filled in, status fields added. */
function live(overrides: Partial<MarathonAppStatus> = {}): MarathonAppStatus {
  return {
    ...structuredClone(app),
    backoffFactor: 1.15,
    killSelection: 'YOUNGEST_FIRST',
    executor: '',
    container: {
      ...app.container,
      docker: { ...app.container.docker, privileged: false, parameters: [] },
      portMappings: app.container.portMappings?.map((m) => ({ ...m, servicePort: 10_101, labels: {} })),
      volumes: [],
    },
    healthChecks: app.healthChecks?.map((h) => ({ ...h, ipProtocol: 'IPv4' })),
    version: V1,
    tasksRunning: 4,
    tasksHealthy: 4,
    tasksStaged: 0,
    tasksUnhealthy: 0,
    tasks: Array.from({ length: 4 }, (_, i) => ({ id: `web.${i}`, version: V1 })),
    ...overrides,
  } as MarathonAppStatus;
}

describe('diffDefinitions (no-op detection, dry run)', () => {
  it('sees no change when Marathon only filled in its defaults and status', () => {
    expect(diffDefinitions(app, live())).toEqual([]);
  });

  it('names each changed, added and removed field, labels included', () => {
    const running = live({
      labels: { ...app.labels, 'ittd.git-sha': 'old' },
      constraints: [['rack', 'LIKE', 'a']],
    });
    delete (running as Record<string, unknown>).secrets;
    const changes = diffDefinitions({ ...app, instances: 5 }, running);
    expect(formatChanges(changes).sort()).toEqual(
      [
        '~ instances: 4 -> 5',
        '~ labels.ittd.git-sha: "old" -> "0123abc"',
        `+ secrets: ${JSON.stringify(app.secrets)}`,
        '~ constraints[0]: ["rack","LIKE","a"] -> ["hostname","GROUP_BY"]',
      ].sort(),
    );
    const removed = diffDefinitions({ ...app, constraints: undefined }, live());
    expect(formatChanges(removed)).toEqual(['- constraints: [["hostname","GROUP_BY"]]']);
  });

  it('keeps the definition of a live app for a restore, valid for Marathon', () => {
    const definition = liveDefinition(live({ lastTaskFailure: undefined }));
    expect(Object.keys(definition)).not.toContain('tasks');
    expect(Object.keys(definition)).not.toContain('version');
    expect(validateMarathonApp(definition)).toEqual([]);
  });
});

describe('verifying a finished deployment', () => {
  it('accepts the version sent with every instance healthy and no other task', () => {
    expect(verifyDeployedApp(live(), V1)).toEqual([]);
    expect(healthSummary(live({ tasksHealthy: 3, tasksStaged: 1 }))).toBe('3/4 healthy (1 staged)');
  });

  it('reports a replaced version, missing health and leftover tasks', () => {
    expect(verifyDeployedApp(live({ version: V2 }), V1)).toEqual([
      `runs version ${V2}, not the version sent ${V1}: another deployment replaced it`,
    ]);
    const tasks = [...(live().tasks ?? []).slice(0, 3), { id: 'web.old', version: V2 }];
    expect(verifyDeployedApp(live({ tasksHealthy: 3, tasks }), V1)).toEqual([
      'only 3/4 healthy',
      `1 task(s) of another version (${V2}) still run`,
    ]);
  });

  it('counts running tasks for an app without health checks (tasksHealthy stays 0 there)', () => {
    const worker = live({ healthChecks: [], tasksHealthy: 0, tasksRunning: 4 });
    expect(verifyDeployedApp(worker, V1)).toEqual([]);
    expect(healthSummary(worker)).toBe('4/4 running');
  });
});

describe('crash loop detection', () => {
  const failure = {
    appId: app.id,
    host: 'agent-2',
    message: 'Command exited with status 1',
    state: 'TASK_FAILED',
    taskId: 'web.9',
    timestamp: V2,
    version: V2,
  };

  it('fails fast on a lastTaskFailure of the version being deployed, not of an older one', () => {
    expect(crashLoop(live({ lastTaskFailure: failure }), [], V2)).toBe(
      `lastTaskFailure: task web.9 (version ${V2}) TASK_FAILED on agent-2: Command exited with status 1 at ${V2}`,
    );
    expect(crashLoop(live({ lastTaskFailure: { ...failure, version: V1 } }), [], V2)).toBeUndefined();
  });

  it("fails fast on the launch queue's back-off, not on an overdue (normal) launch", () => {
    const queued = {
      app: { id: app.id, version: V2 },
      count: 2,
      delay: { timeLeftSeconds: 7, overdue: false },
    };
    expect(crashLoop(live(), [queued], V2)).toContain(
      'the launch queue backs off /ittd/production/notifier/web',
    );
    expect(
      crashLoop(live(), [{ ...queued, delay: { timeLeftSeconds: 0, overdue: true } }], V2),
    ).toBeUndefined();
  });
});

describe('deploy records', () => {
  const record: DeployRecord = {
    id: 'd-1',
    service: 'notifier',
    environment: 'production',
    image: 'registry.example.com/ittd/notifier:abc123',
    gitSha: 'abc123',
    who: 'octocat (CI)',
    startedAt: V1,
    outcome: 'succeeded',
    durationMs: 42_000,
    apps: [{ id: app.id, process: 'web', deploymentId: 'dep-1', version: V2, previousVersion: V1 }],
  };

  it('round-trips through Marathon labels on a valid record app with no task', () => {
    expect(readRecord(recordLabels(record))).toEqual({ ...record, reason: undefined });
    const definition = recordAppDefinition(record);
    expect(definition).toMatchObject({ id: '/ittd-deploys/production/notifier', instances: 0 });
    expect(validateMarathonApp(definition)).toEqual([]);
    expect(Object.values(definition.labels).every((v) => typeof v === 'string')).toBe(true);
  });

  it('keeps the last state of each deploy, newest first, as a table', () => {
    const submitted = { ...record, id: 'd-2', outcome: 'submitted' as const, startedAt: V2 };
    const failed = {
      ...submitted,
      outcome: 'rolled-back' as const,
      durationMs: 9_500,
      reason: 'lastTaskFailure: ...',
    };
    const history = historyOf([failed, submitted, record]);
    expect(history.map((r) => `${r.id} ${r.outcome}`)).toEqual(['d-2 rolled-back', 'd-1 succeeded']);
    expect(formatHistory(history)).toEqual([
      'when                  outcome      duration  who           tag     git sha  processes (Marathon version)',
      `2026-01-01T11:00:00Z  rolled-back  9.5 s     octocat (CI)  abc123  abc123   web@${V2}`,
      '    reason: lastTaskFailure: ...',
      `2026-01-01T10:00:00Z  succeeded    42.0 s    octocat (CI)  abc123  abc123   web@${V2}`,
    ]);
  });
});

describe('progress output', () => {
  const now = () => new Date(V1);
  const state = { health: '2/4 healthy', step: 'step 1/1 RestartApplication', elapsedMs: 1200 };

  it('rewrites one line in a terminal', () => {
    let out = '';
    const progress = createLiveProgress({ tty: true, write: (t) => (out += t), now });
    progress.update('notifier/web', state);
    progress.update('notifier/web', { ...state, health: '3/4 healthy', elapsedMs: 2400 });
    progress.log('notifier/web', 'verified');
    expect(out).toBe(
      '\r\u001b[2Knotifier/web: 2/4 healthy, step 1/1 RestartApplication, 1.2 s' +
        '\r\u001b[2Knotifier/web: 3/4 healthy, step 1/1 RestartApplication, 2.4 s' +
        `\n${V1} notifier/web: verified\n`,
    );
  });

  it('prints a plain line in CI only when the health or the step changed', () => {
    const lines: string[] = [];
    const progress = createLiveProgress({ tty: false, write: (t) => lines.push(t), now });
    progress.update('notifier/web', state);
    progress.update('notifier/web', { ...state, elapsedMs: 1800 });
    progress.update('notifier/web', { ...state, health: '4/4 healthy', elapsedMs: 3000 });
    expect(lines).toEqual([
      `${V1} notifier/web: 2/4 healthy, step 1/1 RestartApplication, 1.2 s\n`,
      `${V1} notifier/web: 4/4 healthy, step 1/1 RestartApplication, 3.0 s\n`,
    ]);
  });
});

describe('images', () => {
  it('parses references with and without a registry', () => {
    expect(parseImageReference('registry.example.com:5000/ittd/applets:3f2c1d0')).toEqual({
      registry: 'registry.example.com:5000',
      name: 'ittd/applets',
      tag: '3f2c1d0',
    });
    expect(parseImageReference('ittd/applets')).toEqual({
      registry: undefined,
      name: 'ittd/applets',
      tag: 'latest',
    });
  });

  it('checks the registry of ITTD_REGISTRY unless told another, none when no registry is configured', () => {
    expect(registryEndpoint(undefined, { ITTD_REGISTRY: 'registry.example.com/team' })?.baseUrl).toBe(
      'https://registry.example.com',
    );
    expect(registryEndpoint('http://127.0.0.1:5000', { ITTD_REGISTRY: 'x.io' })?.baseUrl).toBe(
      'http://127.0.0.1:5000',
    );
    expect(registryEndpoint(undefined, {})).toBeUndefined();
  });

  it('refuses a dirty tag outside local, allows it in local', () => {
    const dirty = (environment: string) => {
      const web = buildMarathonApp(
        notifierDescriptor,
        'web',
        context('notifier', { environment, image: 'r.io/ittd/notifier:abc-dirty-0f1e2d3c4b5a' }),
      );
      return planDeploy(
        {
          service: 'notifier',
          apps: [{ file: 'web.json', name: 'web', content: web }],
          chronosJobs: [],
          metronomeJobs: [],
        },
        { environment, allowDowntime: false, minimumHealthCapacityFloor: 0.5, scheduler: 'none' },
      ).problems;
    };
    expect(dirty('production')).toEqual([
      expect.stringContaining('built from a working tree with uncommitted changes'),
    ]);
    expect(dirty('local')).toEqual([]);
  });
});
