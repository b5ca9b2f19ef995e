import type { ChronosJob } from '../manifests/chronos-job';
import type { MetronomeJob } from '../manifests/metronome-job';
import { ApiError } from './api-errors';
import { requestJson, type ApiEndpoint } from './json-http';

/** One request a job deploy sends, for dry runs and logs. */
export interface PlannedRequest {
  method: 'PUT' | 'POST';
  path: string;
  body: unknown;
}

/**
 * Chronos (3.x): `POST /v1/scheduler/iso8601` creates a job or replaces the one with the same name.
 *
 * @example
 * await new ChronosClient({ baseUrl: 'http://chronos.mesos:4400' }).putJob(job);
 */
export class ChronosClient {
  constructor(private readonly endpoint: ApiEndpoint) {}

  /** The request {@link putJob} sends. */
  static requests(job: ChronosJob): PlannedRequest[] {
    return [{ method: 'POST', path: '/v1/scheduler/iso8601', body: job }];
  }

  /** Creates or replaces the job (Chronos answers 204 without a body). */
  async putJob(job: ChronosJob): Promise<void> {
    await requestJson(this.endpoint, 'POST', '/v1/scheduler/iso8601', job);
  }
}

function jobPath(id: string): string {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}

/**
 * Metronome (v1 API): the job spec and its schedules are separate resources. `PUT /v1/jobs/{id}` replaces a
 * job (404 when it does not exist yet: then `POST /v1/jobs`), and each schedule likewise
 * (`PUT /v1/jobs/{id}/schedules/{sid}`, else `POST /v1/jobs/{id}/schedules`).
 *
 * @example
 * await new MetronomeClient({ baseUrl: 'http://metronome.mesos:9000' }).putJob(job);
 */
export class MetronomeClient {
  constructor(private readonly endpoint: ApiEndpoint) {}

  /** The requests {@link putJob} sends when the job and its schedules already exist. */
  static requests(job: MetronomeJob): PlannedRequest[] {
    const { schedules, ...spec } = job;
    return [
      { method: 'PUT', path: jobPath(job.id), body: spec },
      ...schedules.map((schedule) => ({
        method: 'PUT' as const,
        path: `${jobPath(job.id)}/schedules/${encodeURIComponent(schedule.id)}`,
        body: schedule,
      })),
    ];
  }

  /** Creates or replaces the job, then each of its schedules. */
  async putJob(job: MetronomeJob): Promise<void> {
    const [spec, ...schedules] = MetronomeClient.requests(job);
    await this.upsert(spec, { method: 'POST', path: '/v1/jobs', body: spec.body });
    for (const schedule of schedules) {
      await this.upsert(schedule, {
        method: 'POST',
        path: `${jobPath(job.id)}/schedules`,
        body: schedule.body,
      });
    }
  }

  private async upsert(replace: PlannedRequest, create: PlannedRequest): Promise<void> {
    try {
      await requestJson(this.endpoint, replace.method, replace.path, replace.body);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      await requestJson(this.endpoint, create.method, create.path, create.body);
    }
  }
}
