import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeConfig, listSchedules } from '@ittd/platform';
import { spawnTsx } from '@ittd/platform/testing';
import { configSchema } from '../src/config';
import { triggerPollerSchedules } from '../src/jobs/enqueue-due-polls-schedule';
import {
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

const MAIN = 'src/main.ts';
let service: TriggerPollerTestService;

interface ServiceJson {
  processes: Record<string, { args: string[] }>;
  env: Record<string, Record<string, string | { secret: string }>>;
  jobs: Record<string, { cron: string; timezone?: string }>;
}
const descriptor = JSON.parse(readFileSync('service.json', 'utf8')) as ServiceJson;

beforeAll(async () => {
  service = await startTriggerPollerTestService({ POLL_INTERVAL_SECONDS: '300' });
});

afterAll(async () => {
  await service?.stop();
});

describe('src/main.ts', () => {
  it('describe-config lists the settings, marks the secrets, and lists the run-job names and schedules', async () => {
    const proc = spawnTsx(MAIN, ['describe-config']);
    expect(await proc.exited()).toBe(0);
    const described = JSON.parse(proc.stdout()) as {
      service: string;
      env: { name: string; secret: boolean }[];
      jobs: string[];
      schedules: { name: string; cron: string; timezone: string }[];
    };
    expect(described.service).toBe('trigger-poller');
    expect(described.jobs).toEqual(['enqueue-due-polls', 'rotate-secrets']);
    expect(described.schedules).toEqual([
      expect.objectContaining({ name: 'enqueue-due-polls', cron: '* * * * *', timezone: 'UTC' }),
    ]);
    const secrets = described.env.filter((field) => field.secret).map((field) => field.name);
    expect(secrets.sort()).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'EVENTS_SECRETS_KEYS',
      'METRICS_TOKEN',
      'REDIS_URL',
      'SECRETS_KEYS',
    ]);
    expect(described.env.map((field) => field.name)).toEqual(
      expect.arrayContaining([
        'POLL_INTERVAL_SECONDS',
        'POLL_BATCH_SIZE',
        'PARTNER_TIMEOUT_MS',
        'SCHEDULER_ENABLED',
      ]),
    );
  });

  it('run-job enqueue-due-polls enqueues due subscriptions by next_poll_at, longest overdue first, within the batch size', async () => {
    const partner = { url: 'http://127.0.0.1:9', serviceKey: 'sk_cli_partner_0123456789abcdef' };
    for (const id of ['ti_new', 'ti_old', 'ti_later']) await service.subscribe(id, partner);
    await service.db
      .updateTable('trigger_subscriptions')
      .set({ next_poll_at: sql<Date>`now() - interval '10 minutes'` })
      .where('trigger_identity', '=', 'ti_old')
      .execute();
    await service.db
      .updateTable('trigger_subscriptions')
      .set({ next_poll_at: sql<Date>`now() + interval '10 minutes'` })
      .where('trigger_identity', '=', 'ti_later')
      .execute();

    const oneOnly = spawnTsx(MAIN, ['run-job', 'enqueue-due-polls'], {
      ...service.env,
      POLL_BATCH_SIZE: '1',
    });
    expect(await oneOnly.exited()).toBe(0);
    expect(await service.waitingPolls()).toEqual(['ti_old']);

    const all = spawnTsx(MAIN, ['run-job', 'enqueue-due-polls'], { ...service.env, LOG_LEVEL: 'info' });
    expect(await all.exited()).toBe(0);
    // ti_old was taken by the first run: its next poll moved POLL_INTERVAL_SECONDS ahead.
    expect(all.stdout()).toContain('"due":1,"enqueued":1');
    expect(await service.waitingPolls()).toEqual(['ti_new', 'ti_old']);
  });

  it('run-job with an unknown name exits 64 naming the known jobs', async () => {
    const proc = spawnTsx(MAIN, ['run-job', 'nope'], service.env);
    expect(await proc.exited()).toBe(64);
    expect(proc.stderr()).toContain('enqueue-due-polls');
  });
});

describe('service.json', () => {
  it('declares exactly the schedules of the code, with the same cron, for Chronos/Metronome', () => {
    const declared = Object.entries(descriptor.jobs).map(([name, job]) => ({
      name,
      cron: job.cron,
      timezone: job.timezone ?? 'UTC',
    }));
    expect(declared).toEqual(
      listSchedules(triggerPollerSchedules).map(({ name, cron, timezone }) => ({ name, cron, timezone })),
    );
  });

  it('sets only known settings, and every secret setting by reference outside local environments', () => {
    const fields = new Map(describeConfig(configSchema).map((field) => [field.name, field]));
    for (const [environment, env] of Object.entries(descriptor.env)) {
      for (const [name, value] of Object.entries(env)) {
        expect(fields.has(name), `${environment}.${name} is a setting`).toBe(true);
        // local and local-* (local-swarm) hold development values, as the deploy's config check allows.
        const local = environment === 'local' || environment.startsWith('local-');
        if (!local && fields.get(name)?.secret) {
          expect(value, `${environment}.${name} is a secret reference`).toHaveProperty('secret');
        }
      }
    }
    expect(Object.values(descriptor.processes).map((process) => process.args)).toEqual([
      ['serve'],
      ['worker'],
    ]);
  });
});
