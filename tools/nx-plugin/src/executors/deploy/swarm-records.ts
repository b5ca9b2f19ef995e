import type { SwarmApi } from '../../swarm-client/swarm-api';
import { readRecord, recordLabels, type DeployRecord } from './deploy-record';
import type { LiveProgress } from './progress-log';

/** Records kept per service and environment; older ones are removed when a new one is written. */
export const SWARM_RECORDS_KEPT = 50;

/** The label every deploy record config carries, so `GET /configs` can find them all. */
export const SWARM_RECORD_LABEL = 'ittd.deploy.record';

/**
 * Writes a deploy record into the swarm as a Docker config (`POST /configs/create`), the Swarm twin of the
 * Marathon record app: configs live in the managers' Raft store, survive restarts and need no other
 * database. Configs are immutable, so each write (submitted, then the outcome) is a new config named
 * `ittd-deploy-<record id>-<epoch ms>` (Docker allows 64 characters; service and environment are labels); the labels are {@link recordLabels}, the data the record
 * as JSON. Keeps the newest {@link SWARM_RECORDS_KEPT} per service and environment. A failure to record is
 * reported, never fails the deploy.
 *
 * @example
 * await writeSwarmRecord(record, { swarm, progress });
 */
export async function writeSwarmRecord(
  record: DeployRecord,
  deps: { swarm: SwarmApi; progress: LiveProgress },
): Promise<void> {
  const name = `ittd-deploy-${record.id}-${Date.now()}`;
  try {
    await deps.swarm.createConfig(
      name,
      { ...recordLabels(record), [SWARM_RECORD_LABEL]: 'true' },
      JSON.stringify(record),
    );
    const configs = await deps.swarm.listConfigs({
      [SWARM_RECORD_LABEL]: 'true',
      'ittd.deploy.service': record.service,
      'ittd.deploy.environment': record.environment,
    });
    const old = configs.sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt)).slice(SWARM_RECORDS_KEPT * 2);
    for (const config of old) await deps.swarm.removeConfig(config.ID);
  } catch (error) {
    deps.progress.log(
      `${record.service} record`,
      `could not record the deploy in the swarm: ${(error as Error).message}`,
    );
  }
}

/**
 * Every record in the swarm, newest write first (one deploy id may appear twice: submitted, then its
 * outcome; `historyOf` keeps the newest), optionally of one service and/or environment.
 *
 * @example
 * historyOf(await swarmRecords(swarm, { service: 'applets', environment: 'local-swarm' }));
 */
export async function swarmRecords(
  swarm: SwarmApi,
  filter: { service?: string; environment?: string } = {},
): Promise<DeployRecord[]> {
  const labels: Record<string, string> = { [SWARM_RECORD_LABEL]: 'true' };
  if (filter.service) labels['ittd.deploy.service'] = filter.service;
  if (filter.environment) labels['ittd.deploy.environment'] = filter.environment;
  const configs = await swarm.listConfigs(labels);
  return configs
    .sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt))
    .flatMap((config) => {
      const record = readRecord(config.Spec.Labels);
      return record ? [record] : [];
    });
}
