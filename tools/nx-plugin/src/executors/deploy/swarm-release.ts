import type { SwarmServiceSpec } from '../../manifests/swarm-service';
import type { SwarmApi, SwarmService, SwarmTask } from '../../swarm-client/swarm-api';
import type { DeployOutcome, DeployRecord, RecordedApp } from './deploy-record';
import { seconds, type Clock } from './follow-deployment';
import type { LiveProgress } from './progress-log';
import { specChanges } from './swarm-spec-diff';
import { writeSwarmRecord } from './swarm-records';

/** One process of a release to Swarm: its service spec as the swarm target wrote it. */
export interface SwarmStep {
  /** The process name (`web`). */
  name: string;
  /** The file it was read from, for messages. */
  file: string;
  spec: SwarmServiceSpec;
}

/** What a Swarm release sends: the service's processes, in order (those with a port first). */
export interface SwarmPlan {
  service: string;
  environment: string;
  steps: SwarmStep[];
}

/** What a Swarm release runs with. */
export interface SwarmReleaseDeps {
  swarm: SwarmApi;
  clock: Clock;
  progress: LiveProgress;
  /** How long one service's update (and, separately, its rollback) may run. */
  timeoutMs: number;
  /** Wait between two polls of the service and its tasks. */
  pollIntervalMs: number;
  /** false (`--no-wait`): submit every changed service, record `submitted`, return at once. */
  wait: boolean;
  who: string;
  newId: () => string;
}

/** How a release ended (the same shape as the Marathon release's). */
export interface SwarmReleaseResult {
  success: boolean;
  record: DeployRecord;
  message?: string;
}

/** Failed tasks of a service created by this release after which it counts as a crash loop. */
export const SWARM_CRASH_LOOP_FAILURES = 3;

type FollowResult =
  { ok: true; summary: string } | { ok: false; reason: string; rollback: 'done' | 'unfinished' | 'none' };

/** Whether a task runs what the service's spec says now (image, args, env). */
function runsSpec(task: SwarmTask, spec: SwarmService['Spec']): boolean {
  const want = spec.TaskTemplate.ContainerSpec;
  const have = task.Spec.ContainerSpec ?? {};
  return (
    have.Image === want.Image &&
    JSON.stringify(have.Args ?? []) === JSON.stringify(want.Args ?? []) &&
    JSON.stringify(have.Env ?? []) === JSON.stringify(want.Env ?? [])
  );
}

/**
 * The task a failure is about: the one Swarm's rollback message names ("...early termination of task
 * <id>"), else the newest that failed (or was rejected, or ended with an error), if any.
 */
function newestFailedTask(tasks: readonly SwarmTask[], message?: string): SwarmTask | undefined {
  const named = /task ([a-z0-9]{12,})/.exec(message ?? '')?.[1];
  const task = named ? tasks.find((t) => t.ID.startsWith(named)) : undefined;
  if (task) return task;
  return tasks
    .filter((t) => ['failed', 'rejected'].includes(t.Status.State) || (t.Status.Err ?? '') !== '')
    .sort((a, b) => (b.Status.Timestamp ?? '').localeCompare(a.Status.Timestamp ?? ''))[0];
}

/** The failure among tasks, as `task <id>: <state> <err> (exit n)`; empty when none failed. */
function lastFailure(tasks: readonly SwarmTask[], message?: string): string {
  const task = newestFailedTask(tasks, message);
  if (!task) return '';
  const exit = task.Status.ContainerStatus?.ExitCode;
  return (
    `task ${task.ID.slice(0, 12)} ${task.Status.State}: ` +
    `${task.Status.Err || task.Status.Message || 'no message'}${exit ? ` (exit code ${exit})` : ''}`
  );
}

/** Log lines of a service's tasks shown with a failure. */
export const FAILURE_LOG_LINES = 8;

/** The last log lines of the newest failed task as an indented block for a failure message; empty when none. */
async function lastLogLines(
  tasks: readonly SwarmTask[],
  deps: SwarmReleaseDeps,
  message?: string,
): Promise<string> {
  const task = newestFailedTask(tasks, message);
  if (!task) return '';
  const lines = await deps.swarm.taskLogs(task.ID, FAILURE_LOG_LINES).catch(() => []);
  if (lines.length === 0) return '';
  return `\n  last log lines of task ${task.ID.slice(0, 12)}:\n${lines.map((l) => `    ${l.slice(0, 300)}`).join('\n')}`;
}

/**
 * The verdict on a service that is not updating any more: every replica runs the current spec and is
 * `running` (a task with a health check is `running` only once healthy), and no task of another spec is
 * still wanted. Returns the problems (empty: verified).
 *
 * @example
 * verifyService(service, tasks); // [] or ['2/3 tasks running the new spec']
 */
export function verifyService(service: SwarmService, tasks: readonly SwarmTask[]): string[] {
  const { ready, replicas, other } = taskCounts(service, tasks);
  const problems: string[] = [];
  if (ready < replicas) problems.push(`${ready}/${replicas} tasks running the new spec`);
  if (other > 0) problems.push(`${other} task(s) of another spec still running`);
  return problems;
}

/** Of the tasks Swarm wants running: how many run the current spec (and are healthy), how many another. */
function taskCounts(service: SwarmService, tasks: readonly SwarmTask[]) {
  const wanted = tasks.filter((t) => t.DesiredState === 'running');
  return {
    replicas: service.Spec.Mode.Replicated?.Replicas ?? 0,
    ready: wanted.filter((t) => t.Status.State === 'running' && runsSpec(t, service.Spec)).length,
    other: wanted.filter((t) => !runsSpec(t, service.Spec)).length,
  };
}

function summary(service: SwarmService, tasks: readonly SwarmTask[]): string {
  const { ready, replicas } = taskCounts(service, tasks);
  return `${ready}/${replicas} running the new spec`;
}

/**
 * Follows one service after its create or update until it is verified, rolled back by Swarm, or the
 * deadline passes (then this asks Swarm to roll back, `rollback=previous`, and waits for that too).
 * A service this release created has no previous spec: a crash loop ({@link SWARM_CRASH_LOOP_FAILURES}
 * failed tasks) or the deadline removes it.
 */
async function followService(
  name: string,
  created: boolean,
  subject: string,
  deps: SwarmReleaseDeps,
): Promise<FollowResult> {
  const started = deps.clock.now();
  let deadline = started + deps.timeoutMs;
  let rollingBack = false;
  let requested = false;
  /** Swarm's reason for a rollback, given while it runs (at its end the message is just "rollback completed"). */
  let rollbackReason: string | undefined;
  for (;;) {
    const service = await deps.swarm.findService(name);
    if (!service) return { ok: false, reason: `${name} was removed while it deployed`, rollback: 'none' };
    const tasks = await deps.swarm.listTasks(service.ID);
    const state = service.UpdateStatus?.State;
    deps.progress.update(subject, {
      health: summary(service, tasks),
      step: `update ${state ?? (created ? 'create' : 'pending')}`,
      elapsedMs: deps.clock.now() - started,
    });
    if (state === 'rollback_completed') {
      const logs = await lastLogLines(tasks, deps, rollbackReason);
      const why = requested
        ? `not verified within ${seconds(deps.timeoutMs)}`
        : (rollbackReason ?? service.UpdateStatus?.Message);
      const failure = lastFailure(tasks, rollbackReason);
      return {
        ok: false,
        reason: `rolled back by Swarm: ${why ?? 'update failed'}${failure ? `; ${failure}` : ''}${logs}`,
        rollback: 'done',
      };
    }
    if (state === 'paused' || state === 'rollback_paused') {
      const failure = lastFailure(tasks);
      return {
        ok: false,
        reason: `update ${state}: ${service.UpdateStatus?.Message ?? ''}${failure ? `; ${failure}` : ''}`,
        rollback: state === 'rollback_paused' ? 'unfinished' : 'none',
      };
    }
    if (state === 'rollback_started') {
      rollingBack = true;
      rollbackReason ??= service.UpdateStatus?.Message;
    }
    if (!rollingBack && (state === undefined || state === 'completed')) {
      if (verifyService(service, tasks).length === 0) {
        return {
          ok: true,
          summary: `verified: ${summary(service, tasks)} (${seconds(deps.clock.now() - started)})`,
        };
      }
    }
    if (created) {
      const failed = tasks.filter((t) => ['failed', 'rejected'].includes(t.Status.State)).length;
      if (failed >= SWARM_CRASH_LOOP_FAILURES || deps.clock.now() > deadline) {
        const logs = await lastLogLines(tasks, deps);
        await deps.swarm.removeService(service.ID);
        const why =
          failed >= SWARM_CRASH_LOOP_FAILURES
            ? `crash loop (${failed} failed tasks)`
            : `not verified within ${seconds(deps.timeoutMs)}`;
        return {
          ok: false,
          reason: `${why}; ${lastFailure(tasks)}; created by this release, removed${logs}`,
          rollback: 'done',
        };
      }
    } else if (deps.clock.now() > deadline) {
      if (rollingBack) {
        return {
          ok: false,
          reason: `rollback not finished within ${seconds(deps.timeoutMs)}`,
          rollback: 'unfinished',
        };
      }
      deps.progress.log(subject, `not verified within ${seconds(deps.timeoutMs)}: rolling back`);
      await deps.swarm.rollbackService(service.ID, service.Version.Index, service.Spec);
      requested = true;
      rollingBack = true;
      deadline = deps.clock.now() + deps.timeoutMs;
    }
    await deps.clock.sleep(deps.pollIntervalMs);
  }
}

/**
 * Brings the services of a failed release back, newest first: an updated one is rolled back to its
 * previous spec (`rollback=previous`, waited for), one this release created is removed. One line each.
 */
async function restoreServices(
  sent: readonly { app: RecordedApp; created: boolean }[],
  deps: SwarmReleaseDeps,
): Promise<{ lines: string[]; complete: boolean }> {
  const lines: string[] = [];
  let complete = true;
  for (const { app, created } of [...sent].reverse()) {
    const service = await deps.swarm.findService(app.id);
    if (!service) continue;
    if (created) {
      await deps.swarm.removeService(service.ID);
      lines.push(`${app.process}: created by this release, removed`);
      continue;
    }
    await deps.swarm.rollbackService(service.ID, service.Version.Index, service.Spec);
    const result = await followService(app.id, false, `${app.process} rollback`, deps);
    const back = !result.ok && result.rollback === 'done';
    complete &&= back;
    lines.push(
      `${app.process}: ${back ? 'rolled back to its previous spec' : `rollback: ${result.ok ? 'verified' : result.reason}`}`,
    );
  }
  return { lines, complete };
}

/** A failed release's reason, then what happened to its other processes (one indented line each). */
function failureReport(reason: string, restored: readonly string[]): string {
  if (restored.length === 0) return reason;
  return [reason, `restored the release's other processes:`, ...restored.map((l) => `  ${l}`)].join('\n');
}

/** The spec with the ids Swarm stores in place of names (the network's, the secrets') filled in. */
function resolveIds(
  spec: SwarmServiceSpec,
  secretIds: Map<string, string>,
  networkId: string,
): SwarmServiceSpec {
  const copy = structuredClone(spec);
  copy.TaskTemplate.Networks = copy.TaskTemplate.Networks.map((n) => ({ ...n, Target: networkId }));
  for (const secret of copy.TaskTemplate.ContainerSpec.Secrets ?? []) {
    secret.SecretID = secretIds.get(secret.SecretName);
  }
  return copy;
}

/**
 * Deploys a service's release to Docker Swarm: all its processes as one unit, with the guarantees of the
 * Marathon release ({@link runRelease}).
 *
 * 1. Checks the engine is a swarm manager, creates the environment's overlay network when missing, and
 *    stops before sending anything when a Docker secret the specs name does not exist.
 * 2. Reads every service: one whose spec already holds everything generated is not updated ("unchanged",
 *    {@link specChanges}).
 * 3. Creates or updates the changed ones one after the other (processes with a port first), each followed
 *    until verified: the update `completed`, every replica `running` (healthy) on the new spec, no task
 *    of another spec. Swarm itself rolls an update back when a new task fails within the monitor window
 *    (`FailureAction: rollback`); the deadline makes this ask for the rollback. Either way it waits for
 *    the rollback to complete and fails with Swarm's message and the last task failure.
 * 4. When one fails, the processes already deployed go back to their previous specs (`rollback=previous`)
 *    and those this release created are removed.
 * 5. Records the deploy as a Docker config ({@link writeSwarmRecord}); `deploy history` lists them.
 * With `wait: false`, step 3 only submits, and `deploy status <record id>` follows later.
 *
 * @example
 * const { success } = await runSwarmRelease(plan, { swarm: dockerSwarmApi(docker), clock: systemClock, progress, timeoutMs: 600_000, pollIntervalMs: 1000, wait: true, who, newId: randomUUID });
 */
export async function runSwarmRelease(plan: SwarmPlan, deps: SwarmReleaseDeps): Promise<SwarmReleaseResult> {
  const started = deps.clock.now();
  const first = plan.steps[0]?.spec;
  const record: DeployRecord = {
    id: deps.newId(),
    service: plan.service,
    environment: plan.environment,
    image: first?.TaskTemplate.ContainerSpec.Image ?? '',
    gitSha: first?.Labels['ittd.git-sha'] ?? '',
    who: deps.who,
    startedAt: new Date(started).toISOString(),
    outcome: 'submitted',
    durationMs: 0,
    apps: [],
  };
  const finish = async (outcome: DeployOutcome, reason?: string): Promise<SwarmReleaseResult> => {
    record.outcome = outcome;
    record.durationMs = outcome === 'submitted' ? 0 : deps.clock.now() - started;
    if (reason) record.reason = reason;
    await writeSwarmRecord(record, deps);
    const ok = outcome === 'succeeded' || outcome === 'unchanged' || outcome === 'submitted';
    return { success: ok, record, message: reason };
  };

  const state = await deps.swarm.localNodeState();
  if (state !== 'active') {
    throw new Error(
      `the Docker engine is not part of a swarm (LocalNodeState ${state}): for local-swarm run ` +
        `\`npm run swarm -- up\` (swarm init, network, Postgres, Redis, secrets, edge); for another, join that swarm`,
    );
  }
  const network = first?.TaskTemplate.Networks[0]?.Target;
  let networkId = '';
  if (network) {
    networkId = (await deps.swarm.networkId(network)) ?? '';
    if (!networkId) {
      await deps.swarm.createOverlayNetwork(network, { 'ittd.environment': plan.environment });
      networkId = (await deps.swarm.networkId(network)) ?? '';
      deps.progress.log(plan.service, `created the overlay network ${network}`);
    }
  }
  const secretIds = await deps.swarm.secretIds();
  const missing = [
    ...new Set(
      plan.steps.flatMap((s) =>
        (s.spec.TaskTemplate.ContainerSpec.Secrets ?? [])
          .map((x) => x.SecretName)
          .filter((n) => !secretIds.has(n)),
      ),
    ),
  ];
  if (missing.length > 0) {
    throw new Error(
      `the swarm has no secret ${missing.join(', ')}; create each with ` +
        `\`printf '%s' "<value>" | docker secret create <name> -\` (nothing was sent)`,
    );
  }

  const services: { step: SwarmStep; spec: SwarmServiceSpec; live?: SwarmService; changed: boolean }[] = [];
  for (const step of plan.steps) {
    const subject = `${plan.service}/${step.name}`;
    const spec = resolveIds(step.spec, secretIds, networkId);
    const live = await deps.swarm.findService(spec.Name);
    const changes = live ? specChanges(spec, live.Spec) : undefined;
    const changed = !changes || changes.length > 0;
    if (!live) deps.progress.log(subject, `new service ${spec.Name}`);
    else if (!changed) deps.progress.log(subject, `unchanged (version ${live.Version.Index}): not sent`);
    else deps.progress.log(subject, `changes: ${(changes ?? []).join('; ')}`);
    services.push({ step, spec, live, changed });
    if (!changed && live) {
      record.apps.push({
        id: spec.Name,
        process: step.name,
        version: String(live.Version.Index),
        previousVersion: String(live.Version.Index),
      });
    }
  }

  const sent: { app: RecordedApp; created: boolean }[] = [];
  for (const item of services.filter((s) => s.changed)) {
    const subject = `${plan.service}/${item.step.name}`;
    let entry: RecordedApp;
    try {
      if (item.live) {
        const warnings = await deps.swarm.updateService(item.live.ID, item.live.Version.Index, item.spec);
        for (const warning of warnings) deps.progress.log(subject, `engine warning: ${warning}`);
      } else {
        await deps.swarm.createService(item.spec);
      }
      const now = await deps.swarm.findService(item.spec.Name);
      entry = {
        id: item.spec.Name,
        process: item.step.name,
        deploymentId: `${now?.ID ?? ''}:${now?.Version.Index ?? ''}`,
        version: String(now?.Version.Index ?? ''),
        previousVersion: item.live ? String(item.live.Version.Index) : undefined,
      };
      record.apps.push(entry);
      deps.progress.log(
        subject,
        `${item.live ? 'updated' : 'created'} ${item.spec.Name} (version ${entry.version})`,
      );
    } catch (error) {
      const restored = await restoreServices(sent, deps);
      return finish(
        'failed',
        failureReport(`${item.step.file}: ${(error as Error).message}`, restored.lines),
      );
    }
    sent.push({ app: entry, created: !item.live });
    if (!deps.wait) continue;
    const result = await followService(item.spec.Name, !item.live, subject, deps);
    if (result.ok) {
      deps.progress.log(subject, result.summary);
      continue;
    }
    deps.progress.log(subject, `failed: ${result.reason}`);
    const restored = await restoreServices(sent.slice(0, -1), deps);
    const outcome = result.rollback === 'done' && restored.complete ? 'rolled-back' : 'failed';
    return finish(outcome, failureReport(`${item.step.file}: ${result.reason}`, restored.lines));
  }
  if (!deps.wait) return finish(sent.length > 0 ? 'submitted' : 'unchanged');
  return finish(sent.length > 0 ? 'succeeded' : 'unchanged');
}

/**
 * Follows a Swarm release submitted with `--no-wait` (its record) with the same verification; the first
 * process that fails rolls back (Swarm's own rollback, or asked at the deadline) and the others go back
 * to their previous specs. Writes the record again with the outcome.
 *
 * @example
 * const { success } = await followSwarmRecord(record, deps);
 */
export async function followSwarmRecord(
  record: DeployRecord,
  deps: SwarmReleaseDeps,
): Promise<SwarmReleaseResult> {
  const started = Date.parse(record.startedAt);
  const sent = record.apps
    .filter((a) => a.deploymentId)
    .map((app) => ({ app, created: app.previousVersion === undefined }));
  for (const [index, { app, created }] of sent.entries()) {
    const subject = `${record.service}/${app.process}`;
    const result = await followService(app.id, created, subject, deps);
    if (result.ok) {
      deps.progress.log(subject, result.summary);
      continue;
    }
    const restored = await restoreServices(
      sent.filter((_, i) => i !== index),
      deps,
    );
    record.outcome = result.rollback === 'done' && restored.complete ? 'rolled-back' : 'failed';
    record.reason = [`${app.id}: ${result.reason}`, ...restored.lines].join('\n');
    record.durationMs = deps.clock.now() - started;
    await writeSwarmRecord(record, deps);
    return { success: false, record, message: record.reason };
  }
  record.outcome = 'succeeded';
  record.durationMs = deps.clock.now() - started;
  await writeSwarmRecord(record, deps);
  return { success: true, record };
}
