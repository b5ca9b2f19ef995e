import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfig, checkJobs, ConfigCheckError, readConfigDescription } from '../config/config-settings';
import { readServiceDescriptor } from '../descriptor/load-descriptor';
import { DESCRIPTOR_DEFAULTS, resolveEnv, type ServiceDescriptor } from '../descriptor/service-descriptor';
import type { DeployContext } from '../manifests/deploy-context';
import { serviceOutputs } from '../service-outputs';
import { imageReference, readBuiltImage } from './image-reference';

/** Options shared by the marathon and chronos executors. */
export interface DeployExecutorOptions {
  /** Which env of service.json the manifests carry. */
  environment: string;
  /** Registry prefix of the fallback image reference when docker-build wrote no image.json; default $ITTD_REGISTRY. */
  registry?: string;
}

/** A file to write: path relative to the workspace root, and its JSON content. */
export interface DeployFile {
  path: string;
  content: unknown;
}

/**
 * Loads everything a deploy manifest derives from and checks the config before anything is generated:
 * the descriptor, `config-schema.json` from the bundle, the image just built, the commit it was built from (its `revision`, else HEAD).
 *
 * @example
 * const { descriptor, context } = loadDeployInputs('/repo', 'applets', { environment: 'production' });
 */
export function loadDeployInputs(
  workspaceRoot: string,
  service: string,
  options: DeployExecutorOptions,
): { descriptor: ServiceDescriptor; context: DeployContext } {
  const out = serviceOutputs(service);
  const descriptor = readServiceDescriptor(join(workspaceRoot, 'apps', service, 'service.json'));
  const configFile = join(workspaceRoot, out.bundle, 'config-schema.json');
  if (!existsSync(configFile)) {
    throw new ConfigCheckError(
      `${out.bundle}/config-schema.json is missing: run \`nx bundle ${service}\` first`,
    );
  }
  const description = readConfigDescription(configFile);
  const configSchema = description.env;
  checkConfig(configSchema, resolveEnv(descriptor, options.environment), {
    service,
    environment: options.environment,
  });
  const jobs = Object.entries(descriptor.jobs ?? {}).map(([name, job]) => [
    name,
    { cron: job.cron, timezone: job.timezone ?? DESCRIPTOR_DEFAULTS.timezone },
  ]);
  checkJobs(Object.fromEntries(jobs), description, service);
  const built = readBuiltImage(join(workspaceRoot, out.docker, 'image.json'));
  // The label names the commit the image was built from, not the one checked out now: a service whose
  // image did not change keeps an identical definition, so its deploy is a no-op instead of a restart.
  const gitSha =
    built?.revision ||
    execFileSync('git', ['rev-parse', 'HEAD'], { cwd: workspaceRoot, encoding: 'utf8' }).trim();
  const image = imageReference({
    built,
    service,
    gitSha,
    registry: options.registry ?? process.env.ITTD_REGISTRY,
  });
  return { descriptor, context: { service, image, environment: options.environment, gitSha, configSchema } };
}
