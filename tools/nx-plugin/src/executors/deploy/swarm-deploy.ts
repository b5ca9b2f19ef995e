import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { logger } from '@nx/devkit';
import { readServiceDescriptor } from '../../descriptor/load-descriptor';
import { connectDocker } from '../../docker/docker-engine';
import { dockerSwarmApi, type SwarmApi } from '../../swarm-client/swarm-api';
import { swarmJobNotes } from '../swarm/executor';
import { deployActor } from './deploy-actor';
import type { ResolvedDeployOptions } from './deploy-options';
import { systemClock } from './follow-deployment';
import type { LiveProgress } from './progress-log';
import { readSwarmManifests } from './service-manifests';
import { planSwarmDeploy } from './swarm-plan';
import { runSwarmRelease } from './swarm-release';
import { specChanges } from './swarm-spec-diff';

/**
 * The deploy executor's Swarm path (`orchestrator: swarm`, e.g. `nx deploy applets -c local-swarm`): plans
 * from `dist/deploy/<svc>/swarm`, then {@link runSwarmRelease} against the engine at DOCKER_HOST. A dry
 * run prints what would change per process and sends nothing. Returns whether it succeeded; every
 * failure is logged with its reason.
 *
 * @example
 * await deploySwarm('/repo', 'applets', resolved, progress);
 */
export async function deploySwarm(
  workspaceRoot: string,
  service: string,
  resolved: ResolvedDeployOptions,
  progress: LiveProgress,
  swarm: SwarmApi = dockerSwarmApi(connectDocker()),
): Promise<boolean> {
  const log = progress.log;
  const { plan, problems, warnings } = planSwarmDeploy(service, readSwarmManifests(workspaceRoot, service), {
    environment: resolved.environment,
    allowDowntime: resolved.allowDowntime,
  });
  for (const warning of warnings) logger.warn(warning);
  const descriptor = readServiceDescriptor(join(workspaceRoot, 'apps', service, 'service.json'));
  for (const note of swarmJobNotes(service, Object.keys(descriptor.jobs ?? {}))) logger.warn(note);
  if (problems.length > 0) {
    logger.error(`${service} not deployed to ${resolved.environment}:\n- ${problems.join('\n- ')}`);
    return false;
  }
  if (resolved.dryRun) {
    log(
      service,
      `dry run: ${plan.steps.length} service(s) to the swarm (${resolved.environment}), nothing sent`,
    );
    for (const step of plan.steps) {
      const live = await swarm.findService(step.spec.Name).catch(() => undefined);
      const changes = live ? specChanges(step.spec, live.Spec) : undefined;
      const what = !live ? 'new service' : changes?.length ? changes.join('; ') : 'unchanged';
      logger.info(`${service}/${step.name} (${step.spec.Name}): ${what}`);
    }
    return true;
  }
  log(
    service,
    `deploying ${plan.steps.map((s) => s.name).join(', ')} to the swarm (${resolved.environment})`,
  );
  const result = await runSwarmRelease(plan, {
    swarm,
    clock: systemClock,
    progress,
    timeoutMs: resolved.timeoutMs,
    pollIntervalMs: resolved.pollIntervalMs,
    wait: resolved.wait,
    who: deployActor(workspaceRoot, process.env),
    newId: randomUUID,
  });
  const { record } = result;
  if (!result.success) {
    logger.error(`${service} deploy ${record.outcome} (${record.id}):\n${result.message ?? ''}`);
    return false;
  }
  if (record.outcome === 'submitted') {
    log(
      service,
      `submitted to the swarm, not waiting; follow with: npx tsx tools/nx-plugin/src/cli/deploy-cli.ts status ${record.id} --environment=${resolved.environment}`,
    );
  } else {
    log(
      service,
      `${record.outcome} in ${resolved.environment} (deploy ${record.id}, ${(record.durationMs / 1000).toFixed(1)} s)`,
    );
  }
  return true;
}
