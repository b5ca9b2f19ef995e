import { basename } from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import { ChronosClient, MetronomeClient } from '../../marathon-client/job-scheduler-clients';
import { MarathonClient } from '../../marathon-client/marathon-client';
import { planDeploy, type JobScheduler } from './deploy-plan';
import { resolveDeployOptions, type DeployOptions, type ResolvedDeployOptions } from './deploy-options';
import { describeDryRun } from './dry-run';
import { createProgressLog } from './progress-log';
import { runDeployPlan, systemClock } from './rolling-deploy';
import { readServiceManifests } from './service-manifests';

function scheduler(resolved: ResolvedDeployOptions): JobScheduler | 'both' | 'none' {
  if (resolved.chronos && resolved.metronome) return 'both';
  if (resolved.chronos) return 'chronos';
  // A dry run without any scheduler URL still shows the jobs, in the form that carries secrets.
  if (resolved.metronome || resolved.dryRun) return 'metronome';
  return 'none';
}

/**
 * `nx deploy <svc> [-c staging] [--dry-run] [--force] [--allow-downtime] [--timeoutSeconds=...]`: a
 * rolling deploy of the manifests the marathon and chronos targets just wrote; see schema.json. Progress
 * lines carry timestamps; a failure names the manifest, Marathon's details, and whether it was rolled back.
 *
 * @example
 * // MARATHON_URL=http://marathon.mesos:8080 METRONOME_URL=http://metronome.mesos:9000 \
 * //   npx nx affected -t deploy --parallel=4 -c production
 */
export default async function deployExecutor(
  options: DeployOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const projectName = context.projectName ?? '';
  const root = context.projectsConfigurations.projects[projectName]?.root;
  if (!root) {
    logger.error(`no project root for "${projectName}"`);
    return { success: false };
  }
  const service = basename(root);
  const log = createProgressLog((line) => logger.info(line));
  try {
    const resolved = resolveDeployOptions(options, process.env);
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
    if (resolved.dryRun) {
      log(service, `dry run: ${plan.steps.length} step(s) to ${resolved.environment}, nothing sent`);
      const endpoints = {
        marathon: resolved.marathon?.baseUrl,
        chronos: resolved.chronos?.baseUrl,
        metronome: resolved.metronome?.baseUrl,
      };
      for (const line of describeDryRun(plan, endpoints, resolved.force)) logger.info(line);
      return { success: true };
    }
    if (!resolved.marathon) throw new Error('no Marathon URL: set MARATHON_URL or --marathonUrl');
    log(service, `deploying ${plan.steps.map((s) => s.name).join(', ')} to ${resolved.environment}`);
    await runDeployPlan(plan, {
      marathon: new MarathonClient(resolved.marathon),
      chronos: resolved.chronos && new ChronosClient(resolved.chronos),
      metronome: resolved.metronome && new MetronomeClient(resolved.metronome),
      clock: systemClock,
      log,
      timeoutMs: resolved.timeoutMs,
      pollIntervalMs: resolved.pollIntervalMs,
      force: resolved.force,
    });
    log(service, `deployed to ${resolved.environment}`);
    return { success: true };
  } catch (error) {
    logger.error(`${service} deploy failed: ${(error as Error).message}`);
    return { success: false };
  }
}
