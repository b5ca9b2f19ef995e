import { rmSync } from 'node:fs';
import type { ExecutorContext } from '@nx/devkit';
import chronosExecutor from '../../../src/executors/chronos/executor';
import marathonExecutor from '../../../src/executors/marathon/executor';
import type { ConfigSettingDescription } from '../../../src/config/config-settings';
import type { ServiceDescriptor } from '../../../src/descriptor/service-descriptor';
import { createDeployWorkspace, executorContext } from '../../support/deploy-workspace';
import { platformSettings } from '../../support/fixtures';
import { captureConsole } from './capture-console';

/** A throw-away workspace whose dist/deploy holds the manifests the real targets generate. */
export interface ServiceWorkspace {
  root: string;
  context: ExecutorContext;
  remove(): void;
}

/**
 * Creates a workspace for `service` and runs the real marathon and chronos executors in it for
 * `environment`, as `nx deploy` does through its dependsOn: the deploy tests send exactly what ships.
 * `settings` is the service's config-schema.json (default: the platform's, with a secret DATABASE_URL).
 *
 * @example
 * const ws = await generatedService('notifier', notifierDescriptor, 'production');
 */
export async function generatedService(
  service: string,
  descriptor: ServiceDescriptor,
  environment: string,
  settings: ConfigSettingDescription[] = platformSettings,
): Promise<ServiceWorkspace> {
  const root = createDeployWorkspace({
    [`apps/${service}/service.json`]: descriptor,
    [`dist/apps/${service}/config-schema.json`]: { service, env: settings },
    [`dist/docker/${service}/image.json`]: {
      image: `registry.example.com/ittd/${service}:abc123`,
      tags: [`registry.example.com/ittd/${service}:abc123`],
      id: 'sha256:0f',
      revision: 'abc123',
      created: '2026-01-01T00:00:00Z',
    },
  });
  const context = executorContext(root, service);
  const { result, output } = await captureConsole(async () => ({
    marathon: await marathonExecutor({ environment }, context),
    chronos: await chronosExecutor({ environment }, context),
  }));
  if (!result.marathon.success || !result.chronos.success)
    throw new Error(`manifests not generated:\n${output}`);
  return { root, context, remove: () => rmSync(root, { recursive: true, force: true }) };
}
