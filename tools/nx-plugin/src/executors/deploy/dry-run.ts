import {
  ChronosClient,
  MetronomeClient,
  type PlannedRequest,
} from '../../marathon-client/job-scheduler-clients';
import { MarathonClient, type MarathonAppStatus } from '../../marathon-client/marathon-client';
import { diffDefinitions, formatChanges } from './definition-diff';
import type { DeployPlan, DeployStep } from './deploy-plan';

/** The base URLs a dry run shows; a missing one is shown as its variable name. */
export interface DryRunEndpoints {
  marathon?: string;
  chronos?: string;
  metronome?: string;
}

function stepRequests(
  step: DeployStep,
  force: boolean,
): { base: keyof DryRunEndpoints; requests: PlannedRequest[] } {
  if (step.kind === 'marathon-app') {
    return {
      base: 'marathon',
      requests: [{ method: 'PUT', path: MarathonClient.putAppPath(step.app, { force }), body: step.app }],
    };
  }
  if (step.kind === 'metronome-job')
    return { base: 'metronome', requests: MetronomeClient.requests(step.job) };
  return { base: 'chronos', requests: ChronosClient.requests(step.job) };
}

/**
 * What a deploy would send, one block per request: method, full URL and the JSON body, plus the wait
 * after each Marathon PUT. Headers are not shown (the token never is).
 *
 * @example
 * describeDryRun(plan, { marathon: 'http://marathon.mesos:8080' }, false)[0];
 * // 'PUT http://marathon.mesos:8080/v2/apps/ittd/production/applets/web?partialUpdate=false'
 */
export function describeDryRun(plan: DeployPlan, endpoints: DryRunEndpoints, force: boolean): string[] {
  const lines: string[] = [];
  for (const step of plan.steps) {
    const { base, requests } = stepRequests(step, force);
    const origin = (endpoints[base] ?? `$${base.toUpperCase()}_URL`).replace(/\/+$/, '');
    for (const request of requests) {
      lines.push(`${request.method} ${origin}${request.path}`, JSON.stringify(request.body, null, 2));
    }
    if (step.kind === 'marathon-app') {
      lines.push(`then wait until its deployment is gone from GET ${origin}/v2/deployments and verify it`);
    }
  }
  return lines;
}

/**
 * The readable diff of a dry run against the live apps: per process `unchanged`, `new app`, or the
 * changed fields (`~ container.docker.image: "...:old" -> "...:new"`). `live` maps app id to what
 * `GET /v2/apps/{id}` answered (absent: no such app).
 *
 * @example
 * describeChanges(plan, new Map([[app.id, liveStatus]]));
 * // ['notifier/web: 2 change(s)', '  ~ container.docker.image: "...:a" -> "...:b"', ...]
 */
export function describeChanges(plan: DeployPlan, live: ReadonlyMap<string, MarathonAppStatus>): string[] {
  const lines: string[] = [];
  for (const step of plan.steps) {
    if (step.kind !== 'marathon-app') continue;
    const subject = `${plan.service}/${step.name}`;
    const current = live.get(step.app.id);
    if (!current) {
      lines.push(
        `${subject}: new app ${step.app.id} (${step.app.instances} instances of ${step.app.container.docker.image})`,
      );
      continue;
    }
    const changes = diffDefinitions(step.app, current);
    if (changes.length === 0)
      lines.push(`${subject}: unchanged (version ${current.version}): would not be sent`);
    else
      lines.push(
        `${subject}: ${changes.length} change(s) to version ${current.version}`,
        ...formatChanges(changes).map((l) => `  ${l}`),
      );
  }
  return lines;
}
