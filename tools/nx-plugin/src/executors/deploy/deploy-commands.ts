import type { ReleaseDeps } from './rolling-deploy';
import { followRecord } from './rolling-deploy';
import { formatHistory, historyOf, readRecord, recordAppId, type DeployRecord } from './deploy-record';

/** What the commands need: a release's dependencies and where to print. */
export type CommandDeps = ReleaseDeps & { print: (line: string) => void };

/** The records of every service (current version of each record app), optionally of one environment. */
async function currentRecords(deps: CommandDeps, environment?: string): Promise<DeployRecord[]> {
  const prefix = environment ? `/ittd-deploys/${environment}/` : '/ittd-deploys/';
  const apps = await deps.marathon.listApps(prefix);
  return apps.flatMap((app) => {
    const record = app.id.startsWith(prefix) ? readRecord(app.labels) : undefined;
    return record ? [record] : [];
  });
}

/**
 * `deploy status <deployment id...>`: finds the releases submitted with `--no-wait` that those
 * deployments belong to (their records in Marathon), follows each with the verification of a waiting
 * deploy (rollback and restore on failure), records the outcome. Ids of releases already finished print
 * their recorded outcome. Returns whether all succeeded.
 *
 * @example
 * await deployStatus(['5ed4c0c5-...'], deps); // true
 */
export async function deployStatus(ids: readonly string[], deps: CommandDeps): Promise<boolean> {
  const records = await currentRecords(deps);
  let ok = true;
  const followed = new Set<string>();
  for (const id of ids) {
    const record = records.find((r) => r.apps.some((a) => a.deploymentId === id));
    if (!record) {
      deps.print(
        `${id}: no deploy record names this deployment (not submitted by \`nx deploy\`, or a later deploy replaced the record)`,
      );
      ok = false;
      continue;
    }
    if (followed.has(record.id)) continue;
    followed.add(record.id);
    ok = (await followOrReport(record, (r) => followRecord(r, deps), deps.print)) && ok;
  }
  return ok;
}

/**
 * Prints a finished release's recorded outcome, or follows a `submitted` one with `follow` (the
 * orchestrator's: Marathon's {@link followRecord}, Swarm's `followSwarmRecord`) and prints where it ended.
 * Returns whether it succeeded.
 *
 * @example
 * await followOrReport(record, (r) => followRecord(r, deps), deps.print);
 */
export async function followOrReport(
  record: DeployRecord,
  follow: (record: DeployRecord) => Promise<{ success: boolean; record: DeployRecord; message?: string }>,
  print: (line: string) => void,
): Promise<boolean> {
  const head = `${record.service} (${record.environment}) deploy ${record.id}`;
  if (record.outcome !== 'submitted') {
    print(`${head}: ${record.outcome}${record.reason ? `\n${record.reason}` : ''}`);
    return record.outcome === 'succeeded' || record.outcome === 'unchanged';
  }
  print(`${head}: following ${record.apps.filter((a) => a.deploymentId).length} deployment(s)`);
  const result = await follow(record);
  print(
    `${head}: ${result.record.outcome} ` +
      `(${(result.record.durationMs / 1000).toFixed(1)} s since submitted)${result.message ? `\n${result.message}` : ''}`,
  );
  return result.success;
}

/**
 * `deploy watch [--environment=<env>]`: follows every release still `submitted` (sent with `--no-wait`
 * and not followed yet), one after the other, like {@link deployStatus}.
 *
 * @example
 * await deployWatch('production', deps);
 */
export async function deployWatch(environment: string | undefined, deps: CommandDeps): Promise<boolean> {
  const pending = (await currentRecords(deps, environment)).filter((r) => r.outcome === 'submitted');
  if (pending.length === 0) {
    deps.print(`no deploy in flight${environment ? ` in ${environment}` : ''}`);
    return true;
  }
  let ok = true;
  for (const record of pending)
    ok = (await followOrReport(record, (r) => followRecord(r, deps), deps.print)) && ok;
  return ok;
}

/**
 * `deploy history <service> [--environment=production] [--limit=20]`: the service's deploys read back
 * from Marathon (the versions of its record app), newest first, as a table.
 *
 * @example
 * await deployHistory('applets', 'production', 20, deps);
 */
export async function deployHistory(
  service: string,
  environment: string,
  limit: number,
  deps: CommandDeps,
): Promise<boolean> {
  const id = recordAppId(environment, service);
  const app = await deps.marathon.findApp(id);
  if (!app) {
    deps.print(`no deploy of ${service} recorded in ${environment} (no app ${id})`);
    return false;
  }
  const versions = await deps.marathon.getAppVersions(id);
  const records: DeployRecord[] = [];
  // Two record versions per deploy at most (submitted, outcome): read enough for `limit` deploys.
  for (const version of versions.slice(0, limit * 2)) {
    const record = readRecord(
      (await deps.marathon.getAppVersion(id, version)).labels as Record<string, string>,
    );
    if (record) records.push(record);
  }
  for (const line of formatHistory(historyOf(records).slice(0, limit))) deps.print(line);
  return true;
}
