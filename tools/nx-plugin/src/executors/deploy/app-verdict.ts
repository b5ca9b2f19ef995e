import type { MarathonAppStatus, QueueItem, TaskFailure } from '../../marathon-client/marathon-client';

/**
 * How many tasks of an app count as healthy. Marathon's `tasksHealthy` counts tasks passing health checks,
 * so it stays 0 for an app without any (a worker): there, a running task is the best Marathon knows.
 *
 * @example
 * healthyTasks({ id: '/w', version: 'v', instances: 2, tasksRunning: 2, tasksHealthy: 0 }); // 2
 */
export function healthyTasks(status: MarathonAppStatus): number {
  const checked = (status.healthChecks ?? []).length > 0;
  return (checked ? status.tasksHealthy : status.tasksRunning) ?? 0;
}

/**
 * `2/3 healthy` (`running` for an app without health checks), with staged/unhealthy when there are any.
 *
 * @example
 * healthSummary({ id: '/a', version: 'v', instances: 3, tasksHealthy: 2, tasksRunning: 3, healthChecks: [{}] });
 * // '2/3 healthy'
 */
export function healthSummary(status: MarathonAppStatus): string {
  const checked = (status.healthChecks ?? []).length > 0;
  const extra = [
    status.tasksStaged ? `${status.tasksStaged} staged` : '',
    status.tasksUnhealthy ? `${status.tasksUnhealthy} unhealthy` : '',
  ].filter(Boolean);
  return `${healthyTasks(status)}/${status.instances} ${checked ? 'healthy' : 'running'}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/**
 * Whether a finished deployment left the app as sent: it runs `version`, `instances` tasks are healthy
 * (running, without health checks) and no task of another version is left. Returns the problems, empty
 * when verified.
 *
 * @example
 * verifyDeployedApp(status, '2026-01-01T10:00:00.000Z');
 * // ['runs version 2026-01-01T10:05:00.000Z, not the version sent 2026-01-01T10:00:00.000Z: another deployment replaced it']
 */
export function verifyDeployedApp(status: MarathonAppStatus, version: string): string[] {
  const problems: string[] = [];
  if (status.version !== version) {
    problems.push(
      `runs version ${status.version}, not the version sent ${version}: another deployment replaced it`,
    );
    return problems;
  }
  if (healthyTasks(status) !== status.instances) problems.push(`only ${healthSummary(status)}`);
  const others = (status.tasks ?? []).filter((task) => task.version !== version);
  if (others.length > 0) {
    const versions = [...new Set(others.map((t) => t.version))].join(', ');
    problems.push(`${others.length} task(s) of another version (${versions}) still run`);
  }
  return problems;
}

/**
 * `task <id> (version ...) failed on <host>: TASK_FAILED Command exited with status 1 at <time>`.
 *
 * @example
 * describeFailure(status.lastTaskFailure);
 */
export function describeFailure(failure: TaskFailure): string {
  return (
    `task ${failure.taskId} (version ${failure.version}) ${failure.state} on ${failure.host ?? 'an agent'}` +
    `: ${failure.message || '(no message)'} at ${failure.timestamp}`
  );
}

/**
 * A crash loop of the version being deployed, to fail fast instead of waiting out the deadline: the
 * app's `lastTaskFailure` is a task of that version, or the launch queue backs off launching it
 * (`delay.overdue: false` with time left: Marathon waits longer after each failed task). Both signals
 * when both are there (lastTaskFailure first, it says why); `undefined` when neither.
 *
 * @example
 * crashLoop(status, queue, '2026-01-01T10:00:00.000Z');
 * // 'lastTaskFailure: task web.1 (version 2026-...) TASK_FAILED on agent-1: Command exited with status 1 at ...'
 */
export function crashLoop(
  status: MarathonAppStatus,
  queue: readonly QueueItem[],
  version: string,
): string | undefined {
  const signals: string[] = [];
  const failure = status.lastTaskFailure;
  if (failure && failure.version === version) signals.push(`lastTaskFailure: ${describeFailure(failure)}`);
  const queued = queue.find((item) => item.app.id === status.id && (item.app.version ?? version) === version);
  if (queued && !queued.delay.overdue && queued.delay.timeLeftSeconds > 0) {
    signals.push(
      `the launch queue backs off ${status.id} (${queued.count} task(s) waiting, next launch in ` +
        `${queued.delay.timeLeftSeconds} s): its tasks keep failing`,
    );
  }
  return signals.length > 0 ? signals.join('; ') : undefined;
}

/**
 * How far the new version has come: its tasks that pass their health checks (that run, without health
 * checks) out of the instances wanted, e.g. `2/4 new ready`.
 *
 * @example
 * newVersionProgress(status, '2026-01-01T10:00:00.000Z'); // '2/4 new ready'
 */
export function newVersionProgress(status: MarathonAppStatus, version: string): string {
  const checked = (status.healthChecks ?? []).length > 0;
  const ready = (status.tasks ?? []).filter(
    (task) =>
      task.version === version &&
      (checked
        ? (task.healthCheckResults ?? []).length > 0 && (task.healthCheckResults ?? []).every((r) => r.alive)
        : task.state === 'TASK_RUNNING'),
  ).length;
  return `${ready}/${status.instances} new ready`;
}
