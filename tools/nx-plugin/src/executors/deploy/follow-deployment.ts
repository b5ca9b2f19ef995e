import { ApiError } from '../../marathon-client/api-errors';
import type {
  MarathonAppStatus,
  MarathonClient,
  MarathonDeployment,
  QueueItem,
} from '../../marathon-client/marathon-client';
import { crashLoop, healthSummary, newVersionProgress, verifyDeployedApp } from './app-verdict';
import { MAX_POLL_INTERVAL_SECONDS } from './deploy-options';
import type { LiveProgress } from './progress-log';

/** Time as the deploy sees it: injectable, so the waits are testable without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The calls of Marathon a deploy makes (a {@link MarathonClient} satisfies it). */
export type MarathonApi = Pick<
  MarathonClient,
  | 'putApp'
  | 'deleteApp'
  | 'getDeployments'
  | 'deleteDeployment'
  | 'getApp'
  | 'findApp'
  | 'getQueue'
  | 'listApps'
  | 'getAppVersions'
  | 'getAppVersion'
>;

/** What following a deployment needs. */
export interface FollowDeps {
  marathon: MarathonApi;
  clock: Clock;
  progress: LiveProgress;
  /** How long a deployment (and, separately, its rollback) may run. */
  timeoutMs: number;
  /** First wait between polls; doubles up to {@link MAX_POLL_INTERVAL_SECONDS}. */
  pollIntervalMs: number;
}

/** How a followed deployment ended. */
export type FollowResult =
  | { ok: true; status: MarathonAppStatus; summary: string }
  | {
      ok: false;
      reason: string;
      /** `done`: Marathon rolled the app back (rollback deployment finished); `none`: nothing was rolled back. */
      rollback: 'done' | 'unfinished' | 'none';
      /** Another deployment replaced ours: the app is someone else's now, it is not restored. */
      replaced: boolean;
    };

/**
 * The wait before poll (or retry) number `attempt` (0-based): doubles from `initialMs` up to
 * {@link MAX_POLL_INTERVAL_SECONDS}, so short deployments are seen quickly and long ones are not hammered.
 *
 * @example
 * pollDelayMs(0, 2000); // 2000
 * pollDelayMs(5, 2000); // 10000
 */
export function pollDelayMs(attempt: number, initialMs: number): number {
  return Math.min(initialMs * 2 ** attempt, Math.max(initialMs, MAX_POLL_INTERVAL_SECONDS * 1000));
}

/**
 * `12.3 s`.
 *
 * @example
 * seconds(12_345); // '12.3 s'
 */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * A read before anything is sent (the live app), asked again while it fails the way a leader election or
 * a dropped connection does (bounded: `attempts` tries, waits doubling from `pollIntervalMs`); a 4xx
 * is thrown at once.
 *
 * @example
 * const live = await readWithRetries(() => marathon.findApp(app.id), deps);
 */
export async function readWithRetries<T>(
  read: () => Promise<T>,
  deps: Pick<FollowDeps, 'clock' | 'pollIntervalMs'>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      if ((error instanceof ApiError && error.status < 500) || attempt + 1 >= attempts) throw error;
      await deps.clock.sleep(pollDelayMs(attempt, deps.pollIntervalMs));
    }
  }
}

type Polled<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * One read that may fail for a while (Marathon unreachable, a dropped connection, a 5xx during a leader
 * election): the failure is returned, and the wait goes on until its deadline. A 4xx (bad token, wrong
 * URL) is thrown at once.
 */
async function tolerant<T>(read: () => Promise<T>): Promise<Polled<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) throw error;
    return { ok: false, error: (error as Error).message };
  }
}

function stepOf(deployment: MarathonDeployment | undefined): string {
  if (!deployment) return 'finished';
  const step = deployment.totalSteps
    ? `step ${deployment.currentStep ?? '?'}/${deployment.totalSteps}`
    : 'step ?';
  const actions = [...new Set((deployment.currentActions ?? []).map((a) => a.action))].join('+');
  return actions ? `${step} ${actions}` : step;
}

/**
 * Waits until deployment `deploymentId` is gone from `/v2/deployments` (the deadline bounds it), showing
 * healthy/total, the step and the elapsed time. Returns the app's status then, or `undefined` at the
 * deadline. Used for rollbacks and restores, which are not themselves rolled back.
 *
 * @example
 * const status = await waitUntilGone('/ittd/production/applets/web', rollback.deploymentId, 'applets/web', deps);
 */
export async function waitUntilGone(
  appId: string,
  deploymentId: string,
  subject: string,
  deps: FollowDeps,
): Promise<MarathonAppStatus | undefined> {
  const started = deps.clock.now();
  const deadline = started + deps.timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    const deployments = await tolerant(() => deps.marathon.getDeployments());
    const current = deployments.ok ? deployments.value.find((d) => d.id === deploymentId) : undefined;
    const status = await tolerant(() => deps.marathon.getApp(appId));
    if (deployments.ok && !current && status.ok) return status.value;
    if (status.ok) {
      deps.progress.update(subject, {
        health: healthSummary(status.value),
        step: stepOf(current),
        elapsedMs: deps.clock.now() - started,
      });
    }
    const remaining = deadline - deps.clock.now();
    if (remaining <= 0) return undefined;
    await deps.clock.sleep(Math.min(pollDelayMs(attempt, deps.pollIntervalMs), remaining));
  }
}

/**
 * Cancels a deployment the Marathon way (`DELETE /v2/deployments/{id}` without force: Marathon starts a
 * rollback deployment to the previous version) and waits for that rollback to finish. Says what state it
 * left the app in.
 *
 * @example
 * const { rollback, message } = await rollBack(appId, deploymentId, 'applets/web', deps);
 */
export async function rollBack(
  appId: string,
  deploymentId: string,
  subject: string,
  deps: FollowDeps,
): Promise<{ rollback: 'done' | 'unfinished' | 'none'; message: string }> {
  let answer;
  try {
    answer = await deps.marathon.deleteDeployment(deploymentId, { force: false });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return {
        rollback: 'none',
        message: `deployment ${deploymentId} was already gone: nothing rolled back`,
      };
    }
    throw error;
  }
  if (!answer)
    return { rollback: 'none', message: `DELETE /v2/deployments/${deploymentId} started no rollback` };
  deps.progress.log(
    subject,
    `rolling back: deployment ${answer.deploymentId} (DELETE /v2/deployments/${deploymentId})`,
  );
  const status = await waitUntilGone(appId, answer.deploymentId, subject, deps);
  if (!status) {
    return {
      rollback: 'unfinished',
      message: `rollback deployment ${answer.deploymentId} did not finish within ${seconds(deps.timeoutMs)}`,
    };
  }
  return {
    rollback: 'done',
    message: `rolled back by deployment ${answer.deploymentId}: runs version ${status.version}, ${healthSummary(status)}`,
  };
}

/**
 * Follows our deployment of `appId` to `version` until it is verified, fails fast, or times out:
 * - gone from `/v2/deployments`: verified with {@link verifyDeployedApp} (the version sent, every
 *   instance healthy, no task of another version); a replaced version is reported, not rolled back;
 * - a crash loop of the new version ({@link crashLoop}: its `lastTaskFailure`, or the launch queue's
 *   back-off): rolled back at once, without waiting out the deadline;
 * - still running at `timeoutMs`: rolled back.
 * A rollback is waited for, and the result says the state it left. Reads that fail for a while (503,
 * dropped connection) are asked again until the deadline.
 *
 * @example
 * const result = await followDeployment('/ittd/production/applets/web', ref.deploymentId, ref.version, 'applets/web', deps);
 * if (!result.ok) throw new Error(result.reason);
 */
export async function followDeployment(
  appId: string,
  deploymentId: string,
  version: string,
  subject: string,
  deps: FollowDeps,
): Promise<FollowResult> {
  const started = deps.clock.now();
  const deadline = started + deps.timeoutMs;
  let lastError = '';
  for (let attempt = 0; ; attempt += 1) {
    const deployments = await tolerant(() => deps.marathon.getDeployments());
    const status = await tolerant(() => deps.marathon.getApp(appId));
    const queue = await tolerant<QueueItem[]>(() => deps.marathon.getQueue());
    const current = deployments.ok ? deployments.value.find((d) => d.id === deploymentId) : undefined;
    if (status.ok) {
      let crash = current ? crashLoop(status.value, queue.ok ? queue.value : [], version) : undefined;
      if (crash && !status.value.lastTaskFailure) {
        // Seen in the queue first: read the app again for the failure that says why.
        const again = await tolerant(() => deps.marathon.getApp(appId));
        if (again.ok) crash = crashLoop(again.value, queue.ok ? queue.value : [], version) ?? crash;
      }
      if (crash) {
        deps.progress.log(subject, `crash loop of version ${version}: ${crash}`);
        const rolled = await rollBack(appId, deploymentId, subject, deps);
        return {
          ok: false,
          reason: `${crash}; ${rolled.message}`,
          rollback: rolled.rollback,
          replaced: false,
        };
      }
      if (deployments.ok && !current) {
        const problems = verifyDeployedApp(status.value, version);
        if (problems.length === 0) {
          return {
            ok: true,
            status: status.value,
            summary: `version ${version} verified: ${healthSummary(status.value)}`,
          };
        }
        const replaced = status.value.version !== version;
        return {
          ok: false,
          reason: `deployment ${deploymentId} is gone but ${appId} ${problems.join('; ')}`,
          rollback: 'none',
          replaced,
        };
      }
      deps.progress.update(subject, {
        health: `${newVersionProgress(status.value, version)}, ${healthSummary(status.value)}`,
        step: stepOf(current),
        elapsedMs: deps.clock.now() - started,
      });
    }
    const failed = [deployments, status, queue].find((read) => !read.ok);
    if (failed && !failed.ok && failed.error !== lastError) {
      deps.progress.log(subject, `could not read Marathon (${failed.error}); asking again`);
      lastError = failed.error;
    }
    const remaining = deadline - deps.clock.now();
    if (remaining <= 0) break;
    await deps.clock.sleep(Math.min(pollDelayMs(attempt, deps.pollIntervalMs), remaining));
  }
  const timedOut = `deployment ${deploymentId} of ${appId} did not finish within ${seconds(deps.timeoutMs)}`;
  deps.progress.log(subject, `${timedOut}: rolling back`);
  const rolled = await rollBack(appId, deploymentId, subject, deps);
  if (rolled.rollback === 'none') {
    // It finished between the last poll and the DELETE: verify it like any finished deployment.
    const status = await deps.marathon.getApp(appId);
    const problems = verifyDeployedApp(status, version);
    if (problems.length === 0) {
      return { ok: true, status, summary: `version ${version} verified: ${healthSummary(status)}` };
    }
    return {
      ok: false,
      reason: `${timedOut}; ${problems.join('; ')}`,
      rollback: 'none',
      replaced: status.version !== version,
    };
  }
  return { ok: false, reason: `${timedOut}; ${rolled.message}`, rollback: rolled.rollback, replaced: false };
}
