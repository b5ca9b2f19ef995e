import type { ChronosJob } from '../../manifests/chronos-job';
import type { MarathonApp } from '../../manifests/marathon-app';
import type { MetronomeJob } from '../../manifests/metronome-job';
import type { ManifestFile, ServiceManifests } from './service-manifests';

/** One thing to send, in order. */
export type DeployStep =
  | { kind: 'marathon-app'; name: string; file: string; app: MarathonApp }
  | { kind: 'chronos-job'; name: string; file: string; job: ChronosJob }
  | { kind: 'metronome-job'; name: string; file: string; job: MetronomeJob };

/** Which scheduler receives the jobs. */
export type JobScheduler = 'chronos' | 'metronome';

/** The ordered steps of a service's deploy, or the reasons it must not start. */
export interface DeployPlan {
  service: string;
  environment: string;
  steps: DeployStep[];
  /** Printed, do not stop the deploy (e.g. downtime explicitly allowed). */
  warnings: string[];
  /** Each one stops the deploy before anything is sent. */
  problems: string[];
}

/** What the planner needs besides the manifests. */
export interface PlanInput {
  environment: string;
  allowDowntime: boolean;
  minimumHealthCapacityFloor: number;
  /** The scheduler whose URL is configured; `both` and `none` are reported when the service has jobs. */
  scheduler: JobScheduler | 'both' | 'none';
}

/** The tag docker-build gives an image of a dirty tree: `<sha>-dirty-<fingerprint>`. */
export const DIRTY_TAG = /:[^/:]*-dirty-[0-9a-f]+$/;

/** Marathon's default when an app has no upgradeStrategy (see the reference notes). */
const MARATHON_DEFAULT_MINIMUM_HEALTH_CAPACITY = 1;

/**
 * The reasons an app's upgrade could take capacity down: a `minimumHealthCapacity` below the floor lets
 * Marathon kill old tasks before new ones run; a process serving HTTP without a readiness check lets it
 * kill them as soon as new ones start, before they can take traffic.
 *
 * @example
 * downtimeRisks({ ...app, upgradeStrategy: { minimumHealthCapacity: 0, maximumOverCapacity: 0 } }, 0.5);
 * // ['upgradeStrategy.minimumHealthCapacity 0 is below the floor 0.5: ...']
 */
export function downtimeRisks(app: MarathonApp, floor: number): string[] {
  const risks: string[] = [];
  const capacity = app.upgradeStrategy?.minimumHealthCapacity ?? MARATHON_DEFAULT_MINIMUM_HEALTH_CAPACITY;
  if (capacity < floor) {
    const kept = Math.ceil(app.instances * capacity);
    risks.push(
      `upgradeStrategy.minimumHealthCapacity ${capacity} is below the floor ${floor}: Marathon may keep only ` +
        `${kept} of ${app.instances} instances during the upgrade`,
    );
  }
  const serves = (app.container.portMappings ?? []).length > 0;
  if (serves && (app.readinessChecks ?? []).length === 0) {
    risks.push('it serves HTTP without readinessChecks: old tasks would be killed before new ones are ready');
  }
  return risks;
}

/**
 * Processes that answer readiness checks go first: they are the best canary (a bad release stops there
 * and is rolled back before the workers get it); then the others by name.
 */
function appOrder(a: ManifestFile<MarathonApp>, b: ManifestFile<MarathonApp>): number {
  const ready = (m: ManifestFile<MarathonApp>) => ((m.content.readinessChecks ?? []).length > 0 ? 0 : 1);
  return ready(a) - ready(b) || a.name.localeCompare(b.name);
}

function jobSteps(manifests: ServiceManifests, input: PlanInput, problems: string[]): DeployStep[] {
  const jobNames = [...new Set([...manifests.metronomeJobs, ...manifests.chronosJobs].map((m) => m.name))];
  if (jobNames.length === 0) return [];
  const jobs = jobNames.sort().join(', ');
  if (input.scheduler === 'none') {
    problems.push(`${manifests.service} has scheduled jobs (${jobs}): set METRONOME_URL or CHRONOS_URL`);
    return [];
  }
  if (input.scheduler === 'both') {
    problems.push(
      `both METRONOME_URL and CHRONOS_URL are set: the jobs (${jobs}) would run twice; choose one scheduler`,
    );
    return [];
  }
  if (input.scheduler === 'metronome') {
    return manifests.metronomeJobs.map((m) => ({
      kind: 'metronome-job',
      name: m.name,
      file: m.file,
      job: m.content,
    }));
  }
  const chronosNames = new Set(manifests.chronosJobs.map((m) => m.name));
  for (const missing of jobNames.filter((name) => !chronosNames.has(name))) {
    problems.push(
      `job ${missing} has no Chronos form (it needs secrets): deploy jobs with METRONOME_URL instead`,
    );
  }
  return manifests.chronosJobs.map((m) => ({
    kind: 'chronos-job',
    name: m.name,
    file: m.file,
    job: m.content,
  }));
}

/**
 * Plans a service's deploy (pure): checks every manifest was generated for the environment, refuses an
 * image built from a dirty tree outside `local`, refuses upgrades that could take capacity down (unless `allowDowntime`), orders the apps (readiness-checked
 * processes first) and appends the jobs for the chosen scheduler.
 *
 * @example
 * const plan = planDeploy(readServiceManifests(root, 'applets'), {
 *   environment: 'production', allowDowntime: false, minimumHealthCapacityFloor: 0.5, scheduler: 'metronome',
 * });
 * plan.steps.map((s) => s.name); // ['web', 'worker', 'purge-tokens']
 */
export function planDeploy(manifests: ServiceManifests, input: PlanInput): DeployPlan {
  const { service } = manifests;
  const problems: string[] = [];
  const warnings: string[] = [];
  const labelled = [
    ...manifests.apps.map((m) => ({ file: m.file, labels: m.content.labels })),
    ...manifests.metronomeJobs.map((m) => ({ file: m.file, labels: m.content.labels })),
  ];
  for (const { file, labels } of labelled) {
    const generatedFor = labels?.['ittd.environment'];
    if (generatedFor !== input.environment) {
      problems.push(
        `${file} was generated for ${generatedFor ?? 'no environment'}, not ${input.environment}: ` +
          `run \`nx deploy ${service} -c ${input.environment}\` so the marathon and chronos targets generate for it`,
      );
    }
  }
  for (const m of manifests.chronosJobs) {
    if (!m.content.name.startsWith(`ittd-${input.environment}-`)) {
      problems.push(`${m.file} (${m.content.name}) was not generated for ${input.environment}`);
    }
  }
  if (manifests.apps.length === 0) problems.push(`${service} has no Marathon app to deploy`);
  if (input.environment !== 'local') {
    for (const m of manifests.apps) {
      const image = m.content.container.docker.image;
      if (DIRTY_TAG.test(image)) {
        problems.push(
          `${m.file} runs ${image}, built from a working tree with uncommitted changes: commit, rebuild ` +
            `(\`nx docker-build ${service}\`) and deploy the commit's image; dirty tags only run in local`,
        );
      }
    }
  }
  for (const m of manifests.apps) {
    const risks = downtimeRisks(m.content, input.minimumHealthCapacityFloor);
    const lines = risks.map((risk) => `${m.file}: ${risk}`);
    if (input.allowDowntime) warnings.push(...lines.map((line) => `${line} (allowed: --allow-downtime)`));
    else problems.push(...lines.map((line) => `${line}; refusing without --allow-downtime`));
  }
  const apps: DeployStep[] = [...manifests.apps]
    .sort(appOrder)
    .map((m) => ({ kind: 'marathon-app', name: m.name, file: m.file, app: m.content }));
  const jobs = jobSteps(manifests, input, problems);
  return { service, environment: input.environment, steps: [...apps, ...jobs], warnings, problems };
}
