import { describe, expect, it } from 'vitest';
import { buildChronosJob, ChronosSecretsUnsupportedError } from '../../src/manifests/chronos-job';
import { cronToIso8601, UnsupportedCronError } from '../../src/manifests/cron-to-iso8601';
import { buildMetronomeJob } from '../../src/manifests/metronome-job';
import { context, notifierDescriptor, realServices } from '../support/fixtures';
import { validateMetronomeJob, validateMetronomeSchedule } from '../support/reference-schemas';

const jobs = Object.keys(notifierDescriptor.jobs ?? {});

describe('cronToIso8601', () => {
  it.each([
    ['*/15 * * * *', 'UTC', 'R/2026-01-01T00:00:00Z/PT15M'],
    ['* * * * *', 'UTC', 'R/2026-01-01T00:00:00Z/PT1M'],
    ['5 * * * *', 'UTC', 'R/2026-01-01T00:05:00Z/PT1H'],
    ['0 */6 * * *', 'UTC', 'R/2026-01-01T00:00:00Z/PT6H'],
    ['30 3 * * *', 'Europe/Paris', 'R/2026-01-01T03:30:00+01:00/P1D'],
    ['0 9 * * 1', 'America/New_York', 'R/2026-01-05T09:00:00-05:00/P1W'],
  ])('converts %s (%s) to %s', (cron, zone, expected) => {
    expect(cronToIso8601(cron, zone)).toBe(expected);
  });

  it.each([
    ['0 0 1 * *', 'day-of-month and month must be *'],
    ['*/7 * * * *', '*/7 does not divide 60'],
    ['0 3 * * 1-5', 'day-of-week must be one day'],
    ['0,30 * * * *', 'minute must be a number'],
  ])('refuses %s, which has no fixed period', (cron, why) => {
    expect(() => cronToIso8601(cron, 'UTC')).toThrow(UnsupportedCronError);
    expect(() => cronToIso8601(cron, 'UTC')).toThrow(why);
  });

  it('refuses an unknown time zone', () => {
    expect(() => cronToIso8601('0 3 * * *', 'Mars/Olympus')).toThrow('is not valid');
  });
});

describe('buildChronosJob', () => {
  const staging = context('notifier', { environment: 'staging' });

  it('schedules every job as an ISO 8601 repeating interval running the run-job entry point', () => {
    const job = buildChronosJob(notifierDescriptor, 'purge-deliveries', staging);
    expect(job).toMatchObject({
      name: 'ittd-staging-notifier-purge-deliveries',
      schedule: 'R/2026-01-01T03:30:00+01:00/P1D',
      scheduleTimeZone: 'Europe/Paris',
      command: 'node main.js run-job purge-deliveries',
      container: { type: 'DOCKER', image: staging.image },
    });
    expect(job.environmentVariables).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
    expect(buildChronosJob(notifierDescriptor, 'retry-failed', staging).mem).toBe(128);
  });

  it('refuses an environment with secrets, which Chronos cannot inject, and names them', () => {
    expect(() => buildChronosJob(notifierDescriptor, 'retry-failed', context('notifier'))).toThrow(
      ChronosSecretsUnsupportedError,
    );
    expect(() => buildChronosJob(notifierDescriptor, 'retry-failed', context('notifier'))).toThrow(
      'needs DATABASE_URL, PARTNER_SIGNING_KEY',
    );
  });

  it('fails clearly for an unknown job or an invalid cron', () => {
    expect(() => buildChronosJob(notifierDescriptor, 'nope', staging)).toThrow(
      'has: purge-deliveries, retry-failed',
    );
    const broken = { ...notifierDescriptor, jobs: { bad: { cron: '61 * * * *' } } };
    expect(() => buildChronosJob(broken, 'bad', staging)).toThrow(
      'job notifier/bad: cron "61 * * * *" (UTC) is not valid',
    );
  });
});

describe('buildMetronomeJob', () => {
  it('builds every job as a valid Metronome job with a valid schedule, in every environment', () => {
    for (const environment of ['production', 'staging']) {
      for (const name of jobs) {
        const job = buildMetronomeJob(notifierDescriptor, name, context('notifier', { environment }));
        expect(validateMetronomeJob(job)).toEqual([]);
        for (const schedule of job.schedules) expect(validateMetronomeSchedule(schedule)).toEqual([]);
      }
    }
  });

  it("builds every real service's jobs as valid Metronome jobs, and as Chronos jobs where Chronos can", () => {
    for (const { name, descriptor } of realServices()) {
      for (const environment of Object.keys(descriptor.env ?? { production: {} })) {
        for (const job of Object.keys(descriptor.jobs ?? {})) {
          const metronome = buildMetronomeJob(descriptor, job, context(name, { environment }));
          expect(validateMetronomeJob(metronome), `${name} ${environment} ${job}`).toEqual([]);
          for (const schedule of metronome.schedules) expect(validateMetronomeSchedule(schedule)).toEqual([]);
          try {
            expect(buildChronosJob(descriptor, job, context(name, { environment })).schedule).toMatch(/^R\//);
          } catch (error) {
            expect(error, `${name} ${environment} ${job}`).toBeInstanceOf(ChronosSecretsUnsupportedError);
          }
        }
      }
    }
  });

  it('runs the job entry point with secret references and a non-overlapping cron schedule', () => {
    const job = buildMetronomeJob(notifierDescriptor, 'weekly-report', context('notifier'));
    expect(job.id).toBe('ittd.production.notifier.weekly-report');
    expect(job.run.args).toEqual(['run-job', 'weekly-report']);
    expect(job.run.env.DATABASE_URL).toEqual({ secret: 'database_url' });
    expect(job.run.secrets).toEqual({
      database_url: { source: 'notifier/database_url' },
      partner_signing_key: { source: 'notifier/partner_signing_key' },
    });
    expect(job.schedules).toEqual([
      expect.objectContaining({
        cron: '0 9 * * 1',
        timezone: 'America/New_York',
        concurrencyPolicy: 'FORBID',
      }),
    ]);
  });

  it('keeps start and retry deadlines within the period of frequent jobs, and the defaults for rare ones', () => {
    const frequent = buildMetronomeJob(notifierDescriptor, 'retry-failed', context('notifier')); // */15
    expect(frequent.schedules[0].startingDeadlineSeconds).toBe(900);
    expect(frequent.run.restart.activeDeadlineSeconds).toBe(900);
    expect(frequent.run.maxLaunchDelay).toBe(900);
    const everyMinute = buildMetronomeJob(
      { ...notifierDescriptor, jobs: { tick: { cron: '* * * * *' } } },
      'tick',
      context('notifier'),
    );
    expect(everyMinute.schedules[0].startingDeadlineSeconds).toBe(60);
    expect(everyMinute.run.restart.activeDeadlineSeconds).toBe(60);
    const weekly = buildMetronomeJob(notifierDescriptor, 'weekly-report', context('notifier'));
    expect(weekly.schedules[0].startingDeadlineSeconds).toBe(900);
    expect(weekly.run.restart.activeDeadlineSeconds).toBe(3600);
  });

  it('the validators are live: broken jobs and schedules are rejected', () => {
    const job = buildMetronomeJob(notifierDescriptor, 'retry-failed', context('notifier'));
    expect(validateMetronomeJob({ ...job, id: 'Ittd/Notifier' })).not.toEqual([]);
    expect(validateMetronomeJob({ ...job, run: { ...job.run, mem: 8 } })).not.toEqual([]);
    expect(validateMetronomeJob({ ...job, run: { args: job.run.args } })).not.toEqual([]);
    expect(validateMetronomeSchedule({ ...job.schedules[0], id: '-' })).not.toEqual([]);
    expect(validateMetronomeSchedule({ id: 'default' })).not.toEqual([]);
  });
});
