import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { ChronosClient, MetronomeClient } from '../../marathon-client/job-scheduler-clients';
import { MarathonClient, type MarathonAppStatus } from '../../marathon-client/marathon-client';
import {
  parseImageReference,
  registryHasTag,
  type RegistryEndpoint,
} from '../../marathon-client/registry-client';
import { deployActor } from './deploy-actor';
import { planDeploy, type DeployPlan, type JobScheduler } from './deploy-plan';
import { resolveDeployOptions, type DeployOptions, type ResolvedDeployOptions } from './deploy-options';
import { describeChanges, describeDryRun } from './dry-run';
import { systemClock } from './follow-deployment';
import { createLiveProgress, type LiveProgress } from './progress-log';
import { runRelease } from './rolling-deploy';
import { deploySwarm } from './swarm-deploy';
import { readServiceManifests } from './service-manifests';

function scheduler(resolved: ResolvedDeployOptions): JobScheduler | 'both' | 'none' {
  if (resolved.chronos && resolved.metronome) return 'both';
  if (resolved.chronos) return 'chronos';
  // A dry run without any scheduler URL still shows the jobs, in the form that carries secrets.
  if (resolved.metronome || resolved.dryRun) return 'metronome';
  return 'none';
}

/**
 * The progress output of the deploy commands: an updating line in a terminal, plain lines in CI (no TTY,
 * or `CI` set), through Nx's logger so parallel runs keep their prefixes.
 *
 * @example
 * const progress = terminalProgress();
 */
export function terminalProgress(): LiveProgress {
  const tty = Boolean(process.stdout.isTTY) && !process.env.CI;
  return createLiveProgress({
    tty,
    write: (text) => (tty ? process.stdout.write(text) : logger.info(text.replace(/\n$/, ''))),
  });
}

/**
 * The images the plan's apps run that the registry does not have (`HEAD /v2/<name>/manifests/<tag>`).
 * Marathon could not pull them: the deploy stops before any PUT.
 *
 * @example
 * await missingImages(plan, { baseUrl: 'https://registry.example.com' }); // ['registry.example.com/ittd/applets:3f2c1d0']
 */
export async function missingImages(plan: DeployPlan, registry: RegistryEndpoint): Promise<string[]> {
  const images = new Set(
    plan.steps.flatMap((s) => (s.kind === 'marathon-app' ? [s.app.container.docker.image] : [])),
  );
  const missing: string[] = [];
  for (const image of images) {
    const { name, tag } = parseImageReference(image);
    if (!(await registryHasTag(registry, name, tag))) missing.push(image);
  }
  return missing;
}

/**
 * `nx deploy <svc> [-c staging] [--dry-run] [--no-wait] [--force] [--allow-downtime] [--timeoutSeconds=...]`:
 * a verified release of the manifests the marathon and chronos targets just wrote; see schema.json and
 * {@link runRelease}. Progress shows healthy/total, the step and the elapsed time; a failure names the
 * manifest, Marathon's reason (lastTaskFailure, details) and what was rolled back or restored.
 *
 * @example
 * // MARATHON_URL=http://marathon.mesos:8080 METRONOME_URL=http://metronome.mesos:9000 \
 * //   npx nx affected -t deploy --parallel=4 -c production
 */
export default async function deployExecutor(
  options: DeployOptions,
  context: ExecutorContext,
  progress: LiveProgress = terminalProgress(),
): Promise<{ success: boolean }> {
  const projectName = context.projectName ?? '';
  const root = context.projectsConfigurations.projects[projectName]?.root;
  if (!root) {
    logger.error(`no project root for "${projectName}"`);
    return { success: false };
  }
  const service = basename(root);
  const log = progress.log;
  try {
    const resolved = resolveDeployOptions(options, process.env);
    if (resolved.orchestrator === 'swarm') {
      return { success: await deploySwarm(context.root, service, resolved, progress) };
    }
    const plan = planDeploy(readServiceManifests(context.root, service), {
      environment: resolved.environment,
      allowDowntime: resolved.allowDowntime,
      minimumHealthCapacityFloor: resolved.minimumHealthCapacityFloor,
      scheduler: scheduler(resolved),
    });
    for (const warning of plan.warnings) logger.warn(warning);
    if (plan.problems.length > 0) {
      logger.error(`${service} not deployed to ${resolved.environment}:\n- ${plan.problems.join('\n- ')}`);
      return { success: false };
    }
    const marathon = resolved.marathon && new MarathonClient(resolved.marathon);
    if (resolved.dryRun) {
      log(service, `dry run: ${plan.steps.length} step(s) to ${resolved.environment}, nothing sent`);
      if (marathon) {
        const live = new Map<string, MarathonAppStatus>();
        for (const step of plan.steps) {
          if (step.kind !== 'marathon-app') continue;
          const app = await marathon.findApp(step.app.id);
          if (app) live.set(step.app.id, app);
        }
        for (const line of describeChanges(plan, live)) logger.info(line);
      }
      const endpoints = {
        marathon: resolved.marathon?.baseUrl,
        chronos: resolved.chronos?.baseUrl,
        metronome: resolved.metronome?.baseUrl,
      };
      for (const line of describeDryRun(plan, endpoints, resolved.force)) logger.info(line);
      return { success: true };
    }
    if (!marathon) throw new Error('no Marathon URL: set MARATHON_URL or --marathonUrl');
    if (resolved.registry) {
      const missing = await missingImages(plan, resolved.registry);
      if (missing.length > 0) {
        logger.error(
          `${service} not deployed to ${resolved.environment}: the registry ${resolved.registry.baseUrl} has no ` +
            `${missing.join(', ')}; Marathon could not pull it. Push it: ITTD_PUSH=1 npx nx run ${service}:docker-build`,
        );
        return { success: false };
      }
    }
    log(service, `deploying ${plan.steps.map((s) => s.name).join(', ')} to ${resolved.environment}`);
    const result = await runRelease(plan, {
      marathon,
      chronos: resolved.chronos && new ChronosClient(resolved.chronos),
      metronome: resolved.metronome && new MetronomeClient(resolved.metronome),
      clock: systemClock,
      progress,
      timeoutMs: resolved.timeoutMs,
      pollIntervalMs: resolved.pollIntervalMs,
      force: resolved.force,
      wait: resolved.wait,
      who: deployActor(context.root, process.env),
      newId: randomUUID,
    });
    const { record } = result;
    if (!result.success) {
      logger.error(`${service} deploy ${record.outcome} (${record.id}):\n${result.message ?? ''}`);
      return { success: false };
    }
    if (record.outcome === 'submitted') {
      const ids = record.apps.flatMap((a) => (a.deploymentId ? [a.deploymentId] : []));
      log(service, `submitted to ${resolved.environment}, not waiting; deployment ids: ${ids.join(' ')}`);
      log(service, `follow with: npx tsx tools/nx-plugin/src/cli/deploy-cli.ts status ${ids.join(' ')}`);
    } else {
      log(
        service,
        `${record.outcome} in ${resolved.environment} (deploy ${record.id}, ${(record.durationMs / 1000).toFixed(1)} s)`,
      );
    }
    return { success: true };
  } catch (error) {
    logger.error(`${service} deploy failed: ${(error as Error).message}`);
    return { success: false };
  }
}
