import type { SwarmServiceSpec } from '../../manifests/swarm-service';
import { isLocalEnvironment } from '../../deploy/environments';
import { DIRTY_TAG } from './deploy-plan';
import type { ManifestFile } from './service-manifests';
import type { SwarmPlan } from './swarm-release';

/**
 * Plans a service's deploy to Swarm (pure), with the checks of the Marathon plan: every spec was generated
 * for the environment, no dirty image outside a local environment, an update order that never takes
 * capacity down (`stop-first`) unless `allowDowntime`; processes with a port (health-checked: the canary)
 * go first.
 *
 * @example
 * const { plan, problems } = planSwarmDeploy('applets', readSwarmManifests(root, 'applets'), { environment: 'local-swarm', allowDowntime: false });
 */
export function planSwarmDeploy(
  service: string,
  manifests: readonly ManifestFile<SwarmServiceSpec>[],
  input: { environment: string; allowDowntime: boolean },
): { plan: SwarmPlan; problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  // Processes that serve HTTP carry the readiness health check.
  const serves = (m: ManifestFile<SwarmServiceSpec>) =>
    m.content.TaskTemplate.ContainerSpec.Healthcheck ? 0 : 1;
  if (manifests.length === 0) problems.push(`${service} has no Swarm service spec to deploy`);
  for (const m of manifests) {
    const generatedFor = m.content.Labels?.['ittd.environment'];
    if (generatedFor !== input.environment) {
      problems.push(
        `${m.file} was generated for ${generatedFor ?? 'no environment'}, not ${input.environment}: ` +
          `run \`nx deploy ${service} -c ${input.environment}\` so the swarm target generates for it`,
      );
    }
    const image = m.content.TaskTemplate.ContainerSpec.Image;
    if (!isLocalEnvironment(input.environment) && DIRTY_TAG.test(image)) {
      problems.push(
        `${m.file} runs ${image}, built from a working tree with uncommitted changes: commit, rebuild ` +
          `(\`nx docker-build ${service}\`) and deploy the commit's image; dirty tags only run in local environments`,
      );
    }
    if (m.content.UpdateConfig.Order === 'stop-first' && serves(m) === 0) {
      const risk = `${m.file}: UpdateConfig.Order stop-first stops a serving task before its replacement is healthy`;
      if (input.allowDowntime) warnings.push(`${risk} (allowed: --allow-downtime)`);
      else problems.push(`${risk}; refusing without --allow-downtime`);
    }
  }
  const steps = [...manifests]
    .sort((a, b) => serves(a) - serves(b) || a.name.localeCompare(b.name))
    .map((m) => ({ name: m.name, file: m.file, spec: m.content }));
  return { plan: { service, environment: input.environment, steps }, problems, warnings };
}
