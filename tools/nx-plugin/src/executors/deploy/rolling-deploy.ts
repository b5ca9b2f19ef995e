import { AppLockedError } from '../../marathon-client/api-errors';
import type { ChronosClient, MetronomeClient } from '../../marathon-client/job-scheduler-clients';
import type { AppDefinition, DeploymentRef, MarathonAppStatus } from '../../marathon-client/marathon-client';
import type { MarathonApp } from '../../manifests/marathon-app';
import { healthSummary, verifyDeployedApp } from './app-verdict';
import { diffDefinitions, formatChanges, liveDefinition } from './definition-diff';
import type { DeployPlan, DeployStep } from './deploy-plan';
import { LOCKED_RETRIES } from './deploy-options';
import {
  recordAppDefinition,
  type DeployOutcome,
  type DeployRecord,
  type RecordedApp,
} from './deploy-record';
import {
  followDeployment,
  pollDelayMs,
  readWithRetries,
  rollBack,
  seconds,
  waitUntilGone,
  type FollowDeps,
  type MarathonApi,
} from './follow-deployment';

export { pollDelayMs, systemClock, type Clock, type MarathonApi } from './follow-deployment';

/** What a release runs with. */
export interface ReleaseDeps extends Omit<FollowDeps, 'marathon'> {
  marathon: MarathonApi;
  chronos?: Pick<ChronosClient, 'putJob'>;
  metronome?: Pick<MetronomeClient, 'putJob'>;
  force: boolean;
  /** false (`--no-wait`): submit every changed app, record `submitted`, return at once. */
  wait: boolean;
  /** Who deploys (CI actor or git user), for the record. */
  who: string;
  /** A new unique deploy id. */
  newId: () => string;
}

/** How a release ended: the record written to Marathon, and the message for a failure. */
export interface ReleaseResult {
  success: boolean;
  record: DeployRecord;
  /** Why it failed (with what was restored), for the executor's error line. */
  message?: string;
}

/**
 * PUT with bounded retries while the app is locked by another deployment (409), or `force=true` when asked.
 *
 * @example
 * const ref = await putUntilUnlocked(app, 'applets/web', deps, Date.now() + 600_000);
 */
export async function putUntilUnlocked(
  app: AppDefinition,
  subject: string,
  deps: Pick<ReleaseDeps, 'marathon' | 'clock' | 'progress' | 'pollIntervalMs' | 'force'>,
  deadline: number,
): Promise<DeploymentRef> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await deps.marathon.putApp(app, { force: deps.force });
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
      deps.progress.log(
        subject,
        `${app.id} is locked by ${error.deploymentIds.join(', ')}; retrying in ${seconds(wait)}`,
      );
      await deps.clock.sleep(wait);
    }
  }
}

/**
 * Writes a deploy record: PUTs the record app (`instances: 0`, see deploy-record.ts) and waits for its
 * (instant) deployment, so the next record never finds it locked and a fleet deploy never has more
 * deployments in flight than tasks running. A failure to record is reported, never fails the deploy.
 */
export async function writeRecord(record: DeployRecord, deps: ReleaseDeps): Promise<void> {
  const subject = `${record.service} record`;
  try {
    const definition = recordAppDefinition(record);
    const ref = await putUntilUnlocked(
      definition,
      subject,
      { ...deps, force: false },
      deps.clock.now() + deps.timeoutMs,
    );
    const status = await waitUntilGone(definition.id, ref.deploymentId, subject, {
      ...deps,
      progress: quiet(deps),
    });
    if (!status) deps.progress.log(subject, `record deployment ${ref.deploymentId} still running`);
  } catch (error) {
    deps.progress.log(subject, `could not record the deploy in Marathon: ${(error as Error).message}`);
  }
}

function quiet(deps: ReleaseDeps): FollowDeps['progress'] {
  return { update: () => undefined, log: deps.progress.log };
}

/** Where a restore finds the definition an app had before the release. */
export type PreviousDefinition = (app: RecordedApp) => Promise<AppDefinition | undefined>;

/**
 * Brings the apps of a failed release back to what ran before it, newest first: a deployment still in
 * flight is rolled back by Marathon (DELETE), a finished one gets its previous definition PUT back (the
 * one read before our PUT), and an app the release created is destroyed. Waits for each, returns one
 * line per app saying what it runs now.
 *
 * @example
 * const lines = await restoreApps(deployedApps, async (a) => before.get(a.id), deps);
 */
export async function restoreApps(
  apps: readonly RecordedApp[],
  previous: PreviousDefinition,
  deps: ReleaseDeps,
): Promise<{ lines: string[]; complete: boolean }> {
  const lines: string[] = [];
  let complete = true;
  const subjectOf = (app: RecordedApp) => `${app.id.split('/').slice(-2).join('/')}`;
  for (const app of [...apps].reverse()) {
    if (!app.deploymentId) continue;
    const subject = subjectOf(app);
    const inFlight = (await deps.marathon.getDeployments()).some((d) => d.id === app.deploymentId);
    if (inFlight) {
      const rolled = await rollBack(app.id, app.deploymentId, subject, deps);
      complete &&= rolled.rollback === 'done';
      lines.push(`${subject}: ${rolled.message}`);
      continue;
    }
    const definition = app.previousVersion ? await previous(app) : undefined;
    let ref: DeploymentRef;
    if (definition) {
      ref = await putUntilUnlocked(
        definition,
        subject,
        { ...deps, force: true },
        deps.clock.now() + deps.timeoutMs,
      );
    } else {
      ref = await deps.marathon.deleteApp(app.id);
    }
    const status = await waitUntilGone(app.id, ref.deploymentId, subject, deps);
    if (!definition) {
      lines.push(`${subject}: created by this release, destroyed (deployment ${ref.deploymentId})`);
      complete &&= status !== undefined;
    } else if (!status) {
      complete = false;
      lines.push(
        `${subject}: restore deployment ${ref.deploymentId} did not finish within ${seconds(deps.timeoutMs)}`,
      );
    } else {
      const problems = verifyDeployedApp(status, ref.version);
      complete &&= problems.length === 0;
      lines.push(
        `${subject}: restored to the definition of version ${app.previousVersion} (now version ${status.version}, ${healthSummary(status)})`,
      );
    }
    deps.progress.log(subject, lines[lines.length - 1].slice(subject.length + 2));
  }
  return { lines, complete };
}

interface AppPlan {
  step: Extract<DeployStep, { kind: 'marathon-app' }>;
  subject: string;
  live?: MarathonAppStatus;
  changed: boolean;
}

async function sendJobs(plan: DeployPlan, deps: ReleaseDeps): Promise<void> {
  for (const step of plan.steps) {
    const subject = `${plan.service}/${step.name}`;
    if (step.kind === 'metronome-job') {
      if (!deps.metronome) throw new Error('no Metronome URL: set METRONOME_URL or --metronomeUrl');
      await deps.metronome.putJob(step.job);
      deps.progress.log(subject, `Metronome job ${step.job.id} and its schedule sent`);
    } else if (step.kind === 'chronos-job') {
      if (!deps.chronos) throw new Error('no Chronos URL: set CHRONOS_URL or --chronosUrl');
      await deps.chronos.putJob(step.job);
      deps.progress.log(subject, `Chronos job ${step.job.name} sent (${step.job.schedule})`);
    }
  }
}

/**
 * Deploys a service's release: all its processes, as one unit.
 *
 * 1. Reads every app from Marathon first (`GET /v2/apps/{id}`): an app whose definition equals the one
 *    generated (labels included) is not PUT ("unchanged"); the definitions read are kept for a restore.
 * 2. PUTs the changed apps one after the other, readiness-checked processes first (the canary), each
 *    followed until verified ({@link followDeployment}: version, health, no old task; fail fast on a
 *    crash loop, rollback at the deadline).
 * 3. When one fails, the processes already deployed go back to their previous definitions
 *    ({@link restoreApps}): the release is all or nothing. Why not one Marathon group: a group PUT starts
 *    every process at once (no canary: a bad release reaches the workers too), replaces the group whole
 *    (an app added by hand disappears), and cannot skip unchanged processes.
 * 4. Sends the scheduled jobs, then records the deploy in Marathon ({@link writeRecord}).
 * With `wait: false` step 2 only submits (every changed app at once) and records `submitted`; `deploy
 * status`/`deploy watch` follow it later ({@link followRecord}).
 *
 * @example
 * const { success, record } = await runRelease(plan, { marathon, clock: systemClock, progress, timeoutMs, pollIntervalMs, force: false, wait: true, who, newId: randomUUID });
 */
export async function runRelease(plan: DeployPlan, deps: ReleaseDeps): Promise<ReleaseResult> {
  const started = deps.clock.now();
  const appSteps = plan.steps.filter((s): s is AppPlan['step'] => s.kind === 'marathon-app');
  const first = appSteps[0]?.app as MarathonApp | undefined;
  const record: DeployRecord = {
    id: deps.newId(),
    service: plan.service,
    environment: plan.environment,
    image: first?.container.docker.image ?? '',
    gitSha: first?.labels['ittd.git-sha'] ?? '',
    who: deps.who,
    startedAt: new Date(started).toISOString(),
    outcome: 'submitted',
    durationMs: 0,
    apps: [],
  };
  const finish = async (outcome: DeployOutcome, reason?: string): Promise<ReleaseResult> => {
    const order = appSteps.map((s) => s.app.id);
    record.apps.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    record.outcome = outcome;
    record.durationMs = outcome === 'submitted' ? 0 : deps.clock.now() - started;
    if (reason) record.reason = reason;
    await writeRecord(record, deps);
    const ok = outcome === 'succeeded' || outcome === 'unchanged' || outcome === 'submitted';
    return { success: ok, record, message: reason };
  };

  const apps: AppPlan[] = [];
  for (const step of appSteps) {
    const subject = `${plan.service}/${step.name}`;
    const live = await readWithRetries(() => deps.marathon.findApp(step.app.id), deps);
    const changes = live ? diffDefinitions(step.app, live) : undefined;
    const changed = !changes || changes.length > 0;
    if (!live) deps.progress.log(subject, `new app ${step.app.id}`);
    else if (!changed)
      deps.progress.log(subject, `unchanged (version ${live.version}, ${healthSummary(live)}): not sent`);
    else deps.progress.log(subject, `changes: ${formatChanges(changes ?? []).join('; ')}`);
    apps.push({ step, subject, live, changed });
  }
  const before = new Map(
    apps.flatMap((a) => (a.live ? [[a.step.app.id, liveDefinition(a.live)] as const] : [])),
  );
  for (const app of apps.filter((a) => !a.changed)) {
    record.apps.push({
      id: app.step.app.id,
      process: app.step.name,
      version: app.live?.version,
      previousVersion: app.live?.version,
    });
  }

  const deployed: RecordedApp[] = [];
  for (const app of apps.filter((a) => a.changed)) {
    let entry: RecordedApp;
    let ref: DeploymentRef;
    try {
      ref = await putUntilUnlocked(app.step.app, app.subject, deps, deps.clock.now() + deps.timeoutMs);
      entry = {
        id: app.step.app.id,
        process: app.step.name,
        deploymentId: ref.deploymentId,
        version: ref.version,
        previousVersion: app.live?.version,
      };
      record.apps.push(entry);
      deps.progress.log(
        app.subject,
        `PUT ${app.step.app.id} -> deployment ${ref.deploymentId} (version ${ref.version})`,
      );
    } catch (error) {
      const reason = `${app.step.file}: ${(error as Error).message}`;
      // Without waiting, the processes submitted so far are still in flight: they are rolled back too.
      const sent = deps.wait ? deployed : record.apps.filter((a) => a.deploymentId);
      return failRelease(reason, 'failed', sent, app.step.file);
    }
    if (!deps.wait) continue;
    const result = await followDeployment(entry.id, ref.deploymentId, ref.version, app.subject, deps);
    if (result.ok) {
      deps.progress.log(app.subject, result.summary);
      deployed.push(entry);
      continue;
    }
    deps.progress.log(app.subject, `failed: ${result.reason}`);
    // The failed app itself: rolled back by Marathon already, or (finished but not healthy) restored below;
    // replaced by someone else's deployment: theirs now, left alone.
    const toRestore = result.replaced || result.rollback !== 'none' ? deployed : [...deployed, entry];
    return failRelease(
      `${app.step.file}: ${result.reason}`,
      result.rollback === 'done' ? 'rolled-back' : 'failed',
      toRestore,
    );
  }

  async function failRelease(
    reason: string,
    outcome: DeployOutcome,
    toRestore: RecordedApp[] = deployed,
    failedFile?: string,
  ): Promise<ReleaseResult> {
    const notSent = apps
      .filter(
        (a) => a.changed && a.step.file !== failedFile && !record.apps.some((r) => r.id === a.step.app.id),
      )
      .map((a) => a.step.file);
    const lines = [reason];
    if (toRestore.length > 0) {
      const restored = await restoreApps(toRestore, async (a) => before.get(a.id), deps);
      lines.push(`restored the release's other processes:`, ...restored.lines.map((l) => `  ${l}`));
      if (!restored.complete) outcome = 'failed';
    }
    if (notSent.length > 0) lines.push(`not sent: ${notSent.join(', ')}`);
    return finish(outcome, lines.join('\n'));
  }

  if (!deps.wait) {
    await sendJobs(plan, deps);
    const submitted = record.apps.filter((a) => a.deploymentId);
    for (const a of submitted)
      deps.progress.log(`${plan.service}/${a.process}`, `submitted deployment ${a.deploymentId}`);
    return finish(submitted.length > 0 ? 'submitted' : 'unchanged');
  }
  try {
    await sendJobs(plan, deps);
  } catch (error) {
    return finish('failed', `jobs: ${(error as Error).message}`);
  }
  return finish(deployed.length > 0 ? 'succeeded' : 'unchanged');
}

/**
 * Follows a release submitted with `--no-wait` (its record's apps) with the same verification as a
 * waiting deploy: each app in order; the first that fails is rolled back (or found failed), and the
 * others go back to the definitions of their previous versions (read from Marathon's app versions).
 * Writes the record again with the outcome.
 *
 * @example
 * const { success } = await followRecord(record, deps);
 */
export async function followRecord(record: DeployRecord, deps: ReleaseDeps): Promise<ReleaseResult> {
  const started = Date.parse(record.startedAt);
  const apps = record.apps.flatMap((a) =>
    a.deploymentId && a.version ? [{ ...a, deploymentId: a.deploymentId, version: a.version }] : [],
  );
  for (const [index, app] of apps.entries()) {
    const subject = `${record.service}/${app.process}`;
    const result = await followDeployment(app.id, app.deploymentId, app.version, subject, deps);
    if (result.ok) {
      deps.progress.log(subject, result.summary);
      continue;
    }
    deps.progress.log(subject, `failed: ${result.reason}`);
    const others = apps.filter((_, i) => i !== index);
    if (!result.replaced && result.rollback === 'none') others.push(app);
    const restored = await restoreApps(
      others,
      async (a) => (a.previousVersion ? deps.marathon.getAppVersion(a.id, a.previousVersion) : undefined),
      deps,
    );
    record.outcome = result.rollback === 'done' && restored.complete ? 'rolled-back' : 'failed';
    record.reason = [`${app.id}: ${result.reason}`, ...restored.lines].join('\n');
    record.durationMs = deps.clock.now() - started;
    await writeRecord(record, deps);
    return { success: false, record, message: record.reason };
  }
  record.outcome = 'succeeded';
  record.durationMs = deps.clock.now() - started;
  await writeRecord(record, deps);
  return { success: true, record };
}
