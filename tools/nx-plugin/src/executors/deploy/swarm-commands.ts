import { followOrReport } from './deploy-commands';
import { formatHistory, historyOf } from './deploy-record';
import { followSwarmRecord, type SwarmReleaseDeps } from './swarm-release';
import { swarmRecords } from './swarm-records';

/** What the Swarm commands need: a release's dependencies and where to print. */
export type SwarmCommandDeps = SwarmReleaseDeps & { print: (line: string) => void };

/**
 * `deploy status <deploy id...> --environment=local-swarm`: the Swarm twin of `deployStatus`. The ids are
 * the deploy ids `nx deploy --noWait` printed; a release still `submitted` is followed with the same
 * verification (and rollback), a finished one prints its outcome. Returns whether all succeeded.
 *
 * @example
 * await swarmDeployStatus(['83a5609d-...'], 'local-swarm', deps); // true
 */
export async function swarmDeployStatus(
  ids: readonly string[],
  environment: string,
  deps: SwarmCommandDeps,
): Promise<boolean> {
  const records = historyOf(await swarmRecords(deps.swarm, { environment }));
  let ok = true;
  for (const id of ids) {
    const record = records.find((r) => r.id === id);
    if (!record) {
      deps.print(`${id}: no deploy record with this id in ${environment}`);
      ok = false;
      continue;
    }
    ok = (await followOrReport(record, (r) => followSwarmRecord(r, deps), deps.print)) && ok;
  }
  return ok;
}

/**
 * `deploy watch --environment=local-swarm`: follows every Swarm release still `submitted`.
 *
 * @example
 * await swarmDeployWatch('local-swarm', deps);
 */
export async function swarmDeployWatch(environment: string, deps: SwarmCommandDeps): Promise<boolean> {
  const pending = historyOf(await swarmRecords(deps.swarm, { environment })).filter(
    (r) => r.outcome === 'submitted',
  );
  if (pending.length === 0) {
    deps.print(`no deploy in flight in ${environment}`);
    return true;
  }
  let ok = true;
  for (const record of pending)
    ok = (await followOrReport(record, (r) => followSwarmRecord(r, deps), deps.print)) && ok;
  return ok;
}

/**
 * `deploy history <service> --environment=local-swarm [--limit=20]`: the service's deploys read back from
 * the swarm's record configs, newest first, as the same table as Marathon's (versions are Swarm's
 * service versions).
 *
 * @example
 * await swarmDeployHistory('applets', 'local-swarm', 20, deps);
 */
export async function swarmDeployHistory(
  service: string,
  environment: string,
  limit: number,
  deps: SwarmCommandDeps,
): Promise<boolean> {
  const records = historyOf(await swarmRecords(deps.swarm, { service, environment })).slice(0, limit);
  if (records.length === 0) {
    deps.print(`no deploy of ${service} recorded in ${environment}`);
    return false;
  }
  for (const line of formatHistory(records, 'Swarm')) deps.print(line);
  return true;
}
