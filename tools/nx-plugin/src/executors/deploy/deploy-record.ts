/**
 * Deploy records kept in Marathon itself, so `deploy history` needs no other store: each service and
 * environment has a record app `/ittd-deploys/<env>/<svc>` with `instances: 0` (it never runs a task and
 * costs nothing). Every deploy PUTs it with the record as labels; Marathon keeps every version of an app's
 * definition (`GET /v2/apps/{id}/versions`, up to its `max_versions`), so the versions are the history.
 * A record is written when a deploy is submitted and again with its outcome: history keeps the last
 * version of each `ittd.deploy.id`. Not the service apps' own labels: a label that changes with every
 * deploy (who, when) would make every definition differ, and Marathon restarts all tasks on any change.
 */

/** How a deploy ended. `submitted`: sent with --no-wait, not followed yet. */
export type DeployOutcome = 'submitted' | 'succeeded' | 'unchanged' | 'failed' | 'rolled-back';

/** One app of a release: the deployment sent for it, the version it creates, the version it replaces. */
export interface RecordedApp {
  id: string;
  /** The process name (last part of the id). */
  process: string;
  /** Absent when the app was unchanged (not PUT). */
  deploymentId?: string;
  /** The version Marathon gave the definition sent (or the version running when unchanged). */
  version?: string;
  /** The version running before the PUT; absent when the app did not exist. */
  previousVersion?: string;
}

/** Everything one deploy of one service records. */
export interface DeployRecord {
  /** Unique id of the deploy (a UUID). */
  id: string;
  service: string;
  environment: string;
  image: string;
  gitSha: string;
  /** CI actor (`GITHUB_ACTOR`) or the git user. */
  who: string;
  /** ISO 8601 start. */
  startedAt: string;
  outcome: DeployOutcome;
  /** Milliseconds from start to outcome (0 while submitted). */
  durationMs: number;
  apps: RecordedApp[];
  /** Why it failed or was rolled back. */
  reason?: string;
}

const PREFIX = 'ittd.deploy.';

/**
 * The record app's id for a service in an environment.
 *
 * @example
 * recordAppId('production', 'applets'); // '/ittd-deploys/production/applets'
 */
export function recordAppId(environment: string, service: string): string {
  return `/ittd-deploys/${environment}/${service}`;
}

/** Marathon labels are strings: scalar fields as they are, `apps` as JSON. */
export function recordLabels(record: DeployRecord): Record<string, string> {
  return {
    [`${PREFIX}id`]: record.id,
    [`${PREFIX}service`]: record.service,
    [`${PREFIX}environment`]: record.environment,
    [`${PREFIX}image`]: record.image,
    [`${PREFIX}git-sha`]: record.gitSha,
    [`${PREFIX}who`]: record.who,
    [`${PREFIX}started-at`]: record.startedAt,
    [`${PREFIX}outcome`]: record.outcome,
    [`${PREFIX}duration-ms`]: String(record.durationMs),
    [`${PREFIX}apps`]: JSON.stringify(record.apps),
    ...(record.reason ? { [`${PREFIX}reason`]: record.reason.slice(0, 2000) } : {}),
  };
}

/**
 * Reads a record back from labels; `undefined` when they hold none (or a malformed one).
 *
 * @example
 * readRecord(recordLabels(record))?.outcome; // 'succeeded'
 */
export function readRecord(labels: Record<string, string> | undefined): DeployRecord | undefined {
  const get = (key: string) => labels?.[`${PREFIX}${key}`];
  const id = get('id');
  if (!id) return undefined;
  let apps: RecordedApp[] = [];
  try {
    const parsed = JSON.parse(get('apps') ?? '[]') as unknown;
    if (Array.isArray(parsed)) apps = parsed as RecordedApp[];
  } catch {
    apps = [];
  }
  return {
    id,
    service: get('service') ?? '',
    environment: get('environment') ?? '',
    image: get('image') ?? '',
    gitSha: get('git-sha') ?? '',
    who: get('who') ?? '',
    startedAt: get('started-at') ?? '',
    outcome: (get('outcome') ?? 'submitted') as DeployOutcome,
    durationMs: Number(get('duration-ms') ?? 0),
    apps,
    reason: get('reason'),
  };
}

/**
 * The record app's definition: no task (`instances: 0`), the smallest valid resources, the record as labels.
 *
 * @example
 * recordAppDefinition(record).id; // '/ittd-deploys/production/applets'
 */
export function recordAppDefinition(record: DeployRecord): {
  id: string;
  instances: number;
  cmd: string;
  cpus: number;
  mem: number;
  disk: number;
  labels: Record<string, string>;
} {
  return {
    id: recordAppId(record.environment, record.service),
    instances: 0,
    cmd: 'true',
    cpus: 0.01,
    mem: 32,
    disk: 0,
    labels: recordLabels(record),
  };
}

/**
 * The history from the record app's versions (newest first): one entry per deploy id, its last state.
 *
 * @example
 * historyOf([recordV2, recordV1]); // deploys newest first, each with its final outcome
 */
export function historyOf(recordsNewestFirst: readonly DeployRecord[]): DeployRecord[] {
  const seen = new Set<string>();
  const out: DeployRecord[] = [];
  for (const record of recordsNewestFirst) {
    if (seen.has(record.id)) continue;
    seen.add(record.id);
    out.push(record);
  }
  return out;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/**
 * The history as a table: when, outcome, duration, who, image tag, processes with their version in the
 * orchestrator (`versions` names it: Marathon's app versions, Swarm's service versions).
 *
 * @example
 * formatHistory(historyOf(records)).join('\n');
 */
export function formatHistory(records: readonly DeployRecord[], versions = 'Marathon'): string[] {
  const rows = records.map((r) => [
    r.startedAt.replace(/\.\d{3}Z$/, 'Z'),
    r.outcome,
    `${(r.durationMs / 1000).toFixed(1)} s`,
    r.who,
    r.image.slice(r.image.lastIndexOf(':') + 1).slice(0, 20),
    r.gitSha.slice(0, 12),
    r.apps.map((a) => `${a.process}@${a.version ?? '-'}`).join(' '),
  ]);
  const header = ['when', 'outcome', 'duration', 'who', 'tag', 'git sha', `processes (${versions} version)`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : pad(cell, widths[i]))).join('  ');
  const out = [line(header)];
  records.forEach((r, index) => {
    out.push(line(rows[index]));
    if (r.reason) {
      const reason = r.reason.split('\n')[0];
      out.push(`    reason: ${reason.length > 200 ? `${reason.slice(0, 197)}...` : reason}`);
    }
  });
  return out;
}
