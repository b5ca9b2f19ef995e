import { ApiError, AppLockedError } from '../../marathon-client/api-errors';
import type { ChronosClient, MetronomeClient } from '../../marathon-client/job-scheduler-clients';
import type { MarathonApp } from '../../manifests/marathon-app';
import type { MarathonClient } from '../../marathon-client/marathon-client';
import type { DeployPlan, DeployStep } from './deploy-plan';
import { LOCKED_RETRIES, MAX_POLL_INTERVAL_SECONDS } from './deploy-options';
import type { ProgressLog } from './progress-log';

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

/** The calls of Marathon a rolling deploy makes (a {@link MarathonClient} satisfies it). */
export type MarathonApi = Pick<MarathonClient, 'putApp' | 'getDeployments' | 'deleteDeployment' | 'getApp'>;

/** What a deploy runs with. */
export interface RollingDeployDeps {
  marathon?: MarathonApi;
  chronos?: Pick<ChronosClient, 'putJob'>;
  metronome?: Pick<MetronomeClient, 'putJob'>;
  clock: Clock;
  log: ProgressLog;
  timeoutMs: number;
  pollIntervalMs: number;
  force: boolean;
}

/** A deployment that did not finish in time and was rolled back (DELETE without force). */
export class DeploymentRolledBackError extends Error {
  override readonly name = 'DeploymentRolledBackError';
}

type DeploymentList = Awaited<ReturnType<MarathonApi['getDeployments']>>;

/**
 * One poll of GET /v2/deployments. A failure that may pass (Marathon unreachable, a 5xx during a leader
 * election) is returned, not thrown: the wait goes on until its deadline, and a deployment that is really
 * stuck is still rolled back. A 4xx (bad token, wrong URL) is thrown at once.
 */
async function pollDeployments(
  marathon: MarathonApi,
): Promise<{ ok: true; list: DeploymentList } | { ok: false; error: string }> {
  try {
    return { ok: true, list: await marathon.getDeployments() };
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) throw error;
    return { ok: false, error: (error as Error).message };
  }
}

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

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** PUT with bounded retries while the app is locked (or `force=true` when asked). */
async function putUntilUnlocked(
  app: MarathonApp,
  subject: string,
  deps: RollingDeployDeps & { marathon: MarathonApi },
  deadline: number,
): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const { deploymentId, version } = await deps.marathon.putApp(app, { force: deps.force });
      deps.log(subject, `PUT ${app.id} -> deployment ${deploymentId} (version ${version})`);
      return deploymentId;
    } catch (error) {
      if (!(error instanceof AppLockedError)) throw error;
      const wait = pollDelayMs(attempt, deps.pollIntervalMs);
      if (attempt >= LOCKED_RETRIES || deps.clock.now() + wait > deadline) {
        throw new Error(
          `${subject}: ${app.id} is still locked by ${error.deploymentIds.join(', ')} after ${attempt + 1} ` +
            `attempts; wait for that deployment or deploy with --force`,
          { cause: error },
        );
      }
      deps.log(
        subject,
        `${app.id} is locked by ${error.deploymentIds.join(', ')}; retrying in ${seconds(wait)}`,
      );
      await deps.clock.sleep(wait);
    }
  }
}

/** Polls /v2/deployments until the deployment is gone; rolls it back at the deadline. */
async function waitUntilFinished(
  app: MarathonApp,
  deploymentId: string,
  subject: string,
  deps: RollingDeployDeps & { marathon: MarathonApi },
  deadline: number,
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    const deployments = await pollDeployments(deps.marathon);
    const current = deployments.ok ? deployments.list.find((d) => d.id === deploymentId) : undefined;
    if (deployments.ok && !current) return;
    const remaining = deadline - deps.clock.now();
    if (remaining <= 0) break;
    const wait = Math.min(pollDelayMs(attempt, deps.pollIntervalMs), remaining);
    if (!deployments.ok) {
      deps.log(subject, `could not read the deployments (${deployments.error}); asking again`);
    } else if (current) {
      const step = current.totalSteps ? ` step ${current.currentStep ?? '?'}/${current.totalSteps}` : '';
      const actions = (current.currentActions ?? []).map((a) => a.action).join(', ');
      deps.log(subject, `deployment ${deploymentId} in progress${step}${actions ? ` (${actions})` : ''}`);
    }
    await deps.clock.sleep(wait);
  }
  deps.log(subject, `deployment ${deploymentId} did not finish in ${seconds(deps.timeoutMs)}: rolling back`);
  let rollback: string;
  try {
    const answer = await deps.marathon.deleteDeployment(deploymentId, { force: false });
    rollback = answer ? `rollback deployment ${answer.deploymentId}` : 'rollback started';
  } catch (error) {
    // The deployment ended between the last poll and the DELETE: nothing to roll back.
    if (error instanceof ApiError && error.status === 404) {
      deps.log(subject, `deployment ${deploymentId} finished just before the rollback`);
      return;
    }
    throw error;
  }
  throw new DeploymentRolledBackError(
    `${subject}: deployment ${deploymentId} of ${app.id} did not finish within ${seconds(deps.timeoutMs)}; ` +
      `rolled back to the previous version (DELETE /v2/deployments/${deploymentId}: ${rollback})`,
  );
}

/**
 * Deploys one app: PUT the whole definition, then wait until Marathon's deployment is gone (its
 * upgradeStrategy and readiness checks make it a rolling one), rolling it back at `timeoutMs`.
 *
 * @example
 * await deployApp(app, 'applets/web', { marathon, clock: systemClock, log, timeoutMs: 600_000, pollIntervalMs: 2000, force: false });
 */
export async function deployApp(
  app: MarathonApp,
  subject: string,
  deps: RollingDeployDeps & { marathon: MarathonApi },
): Promise<void> {
  const deadline = deps.clock.now() + deps.timeoutMs;
  const deploymentId = await putUntilUnlocked(app, subject, deps, deadline);
  await waitUntilFinished(app, deploymentId, subject, deps, deadline);
  const status = await deps.marathon.getApp(app.id);
  deps.log(
    subject,
    `deployed version ${status.version}: ${status.tasksHealthy ?? '?'} healthy, ${status.tasksRunning ?? '?'} ` +
      `running of ${status.instances}`,
  );
}

/**
 * A step of a plan failed: names the manifest file and the steps left unsent (they keep the previous
 * release). The original error (typed API error, rollback) is the `cause`.
 */
export class DeployStepError extends Error {
  override readonly name = 'DeployStepError';

  constructor(
    readonly file: string,
    readonly notSent: string[],
    cause: Error,
  ) {
    super(`${file}: ${cause.message}${notSent.length > 0 ? `\nnot sent: ${notSent.join(', ')}` : ''}`, {
      cause,
    });
  }
}

async function runStep(step: DeployStep, subject: string, deps: RollingDeployDeps): Promise<void> {
  if (step.kind === 'marathon-app') {
    if (!deps.marathon) throw new Error('no Marathon URL: set MARATHON_URL or --marathonUrl');
    await deployApp(step.app, subject, { ...deps, marathon: deps.marathon });
  } else if (step.kind === 'metronome-job') {
    if (!deps.metronome) throw new Error('no Metronome URL: set METRONOME_URL or --metronomeUrl');
    await deps.metronome.putJob(step.job);
    deps.log(subject, `Metronome job ${step.job.id} and its schedule sent`);
  } else {
    if (!deps.chronos) throw new Error('no Chronos URL: set CHRONOS_URL or --chronosUrl');
    await deps.chronos.putJob(step.job);
    deps.log(subject, `Chronos job ${step.job.name} sent (${step.job.schedule})`);
  }
}

/**
 * Runs a plan in order and stops at the first failure: a failed app was rolled back or never started, so
 * the later processes keep running the previous release. Throws a {@link DeployStepError}.
 *
 * @example
 * await runDeployPlan(plan, { marathon, metronome, clock: systemClock, log, timeoutMs, pollIntervalMs, force });
 */
export async function runDeployPlan(plan: DeployPlan, deps: RollingDeployDeps): Promise<void> {
  for (const [index, step] of plan.steps.entries()) {
    try {
      await runStep(step, `${plan.service}/${step.name}`, deps);
    } catch (error) {
      const notSent = plan.steps.slice(index + 1).map((s) => s.file);
      throw new DeployStepError(
        step.file,
        notSent,
        error instanceof Error ? error : new Error(String(error)),
      );
    }
  }
}
