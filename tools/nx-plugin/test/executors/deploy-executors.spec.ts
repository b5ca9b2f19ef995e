import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import chronosExecutor from '../../src/executors/chronos/executor';
import marathonExecutor from '../../src/executors/marathon/executor';
import { captureErrors } from '../support/capture-errors';
import { createDeployWorkspace, executorContext } from '../support/deploy-workspace';
import { notifierDescriptor, platformSettings } from '../support/fixtures';
import { validateMarathonApp, validateMetronomeJob } from '../support/reference-schemas';

const roots: string[] = [];
function workspace(files: Record<string, unknown>): string {
  const root = createDeployWorkspace(files);
  roots.push(root);
  return root;
}
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

const readJson = (root: string, path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

describe('marathon executor', () => {
  it('writes one valid app per process with the image docker-build just built', async () => {
    const root = workspace({
      'apps/notifier/service.json': notifierDescriptor,
      'dist/apps/notifier/config-schema.json': { service: 'notifier', env: platformSettings },
      'dist/docker/notifier/image.json': {
        image: 'registry.example.com/ittd/notifier:abc123',
        tags: ['registry.example.com/ittd/notifier:abc123', 'registry.example.com/ittd/notifier:latest'],
        id: 'sha256:0f',
        revision: 'abc123',
        created: '2026-01-01T00:00:00Z',
      },
    });
    const result = await marathonExecutor({ environment: 'production' }, executorContext(root, 'notifier'));
    expect(result.success).toBe(true);
    expect(readdirSync(join(root, 'dist/deploy/notifier/marathon')).sort()).toEqual([
      'web.json',
      'worker.json',
    ]);
    const web = readJson(root, 'dist/deploy/notifier/marathon/web.json');
    expect(validateMarathonApp(web)).toEqual([]);
    expect(web.container.docker.image).toBe('registry.example.com/ittd/notifier:abc123');
    // The image's commit (image.json revision), not HEAD: an unchanged image gives an unchanged definition.
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    expect(web.labels['ittd.git-sha']).toBe('abc123');
    expect(head).not.toBe('abc123');
  });

  it('falls back to <registry>/ittd/<svc>:<git sha> without image.json', async () => {
    const root = workspace({
      'apps/notifier/service.json': notifierDescriptor,
      'dist/apps/notifier/config-schema.json': { service: 'notifier', env: platformSettings },
    });
    const options = { environment: 'production', registry: 'registry.example.com:5000/' };
    expect((await marathonExecutor(options, executorContext(root, 'notifier'))).success).toBe(true);
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    expect(readJson(root, 'dist/deploy/notifier/marathon/worker.json').container.docker.image).toBe(
      `registry.example.com:5000/ittd/notifier:${sha}`,
    );
  });

  it('fails, writing nothing, when a required setting has no value nor secret reference', async () => {
    const settings = [
      ...platformSettings,
      { name: 'PARTNER_API_KEY', type: 'string', required: true, secret: true, description: 'partner key' },
      { name: 'QUEUE_NAME', type: 'string', required: true, secret: false },
    ];
    // Only whitespace is no value: the service reads it as unset and would exit 78.
    const production = { ...notifierDescriptor.env?.production, QUEUE_NAME: '   ' };
    const root = workspace({
      'apps/notifier/service.json': { ...notifierDescriptor, env: { ...notifierDescriptor.env, production } },
      'dist/apps/notifier/config-schema.json': { service: 'notifier', env: settings },
    });
    const { result, errors: message } = await captureErrors(() =>
      marathonExecutor({ environment: 'production' }, executorContext(root, 'notifier')),
    );
    expect(result.success).toBe(false);
    expect(message).toContain('notifier is not deployable to production');
    expect(message).toContain('missing required setting PARTNER_API_KEY (partner key)');
    expect(message).toContain('missing required setting QUEUE_NAME');
    expect(message).not.toContain('DATABASE_URL');
    expect(existsSync(join(root, 'dist/deploy/notifier/marathon'))).toBe(false);
  });

  it('fails clearly when the bundle has not written config-schema.json', async () => {
    const root = workspace({ 'apps/notifier/service.json': notifierDescriptor });
    const { result, errors } = await captureErrors(() =>
      marathonExecutor({ environment: 'production' }, executorContext(root, 'notifier')),
    );
    expect(result.success).toBe(false);
    expect(errors).toContain(
      'dist/apps/notifier/config-schema.json is missing: run `nx bundle notifier` first',
    );
  });
});

describe('chronos executor', () => {
  it('refuses service.json jobs the code does not know, or scheduled with another cron, listing each', async () => {
    const root = workspace({
      'apps/notifier/service.json': notifierDescriptor, // purge-deliveries, retry-failed (*/15), weekly-report
      'dist/apps/notifier/config-schema.json': {
        service: 'notifier',
        env: platformSettings,
        jobs: ['purge-deliveries', 'retry-failed'],
        schedules: [
          { name: 'purge-deliveries', cron: '30 3 * * *', timezone: 'Europe/Paris' },
          { name: 'retry-failed', cron: '*/5 * * * *', timezone: 'UTC' },
        ],
      },
    });
    const { result, errors } = await captureErrors(() =>
      chronosExecutor({ environment: 'production' }, executorContext(root, 'notifier')),
    );
    expect(result.success).toBe(false);
    expect(errors).toContain(
      'job retry-failed runs "*/15 * * * *" (UTC) in service.json but "*/5 * * * *" (UTC) in the code',
    );
    expect(errors).toContain('job weekly-report is not a run-job name of the service');
    expect(errors).not.toContain('job purge-deliveries');
    expect(existsSync(join(root, 'dist/deploy/notifier/metronome'))).toBe(false);
  });

  it('writes Metronome jobs for every job, and Chronos jobs where Chronos can run them', async () => {
    // In staging this service reads a plain (non-secret) DATABASE_URL, so Chronos can run its jobs there.
    const settings = platformSettings.map((s) => (s.name === 'DATABASE_URL' ? { ...s, secret: false } : s));
    const root = workspace({
      'apps/notifier/service.json': notifierDescriptor,
      'dist/apps/notifier/config-schema.json': { service: 'notifier', env: settings },
    });
    expect(
      (await chronosExecutor({ environment: 'staging' }, executorContext(root, 'notifier'))).success,
    ).toBe(true);
    const jobs = ['purge-deliveries.json', 'retry-failed.json', 'weekly-report.json'];
    expect(readdirSync(join(root, 'dist/deploy/notifier/chronos')).sort()).toEqual(jobs);
    expect(readdirSync(join(root, 'dist/deploy/notifier/metronome')).sort()).toEqual(jobs);
    for (const job of jobs)
      expect(validateMetronomeJob(readJson(root, `dist/deploy/notifier/metronome/${job}`))).toEqual([]);
    expect(readJson(root, 'dist/deploy/notifier/chronos/retry-failed.json').command).toBe(
      'node main.js run-job retry-failed',
    );

    // production references secrets: Metronome only, and the stale Chronos files are gone
    expect(
      (await chronosExecutor({ environment: 'production' }, executorContext(root, 'notifier'))).success,
    ).toBe(true);
    expect(readdirSync(join(root, 'dist/deploy/notifier/chronos'))).toEqual([]);
    expect(readdirSync(join(root, 'dist/deploy/notifier/metronome')).sort()).toEqual(jobs);
  });
});

describe('config-schema.json', () => {
  it('rejects a file that is not describe-config output, naming it', async () => {
    const root = workspace({
      'apps/notifier/service.json': notifierDescriptor,
      'dist/apps/notifier/config-schema.json': platformSettings,
    });
    const { result, errors } = await captureErrors(() =>
      marathonExecutor({ environment: 'production' }, executorContext(root, 'notifier')),
    );
    expect(result.success).toBe(false);
    expect(errors).toContain('dist/apps/notifier/config-schema.json is not describe-config output');
  });
});
