import { join } from 'node:path';
import { formatFiles, generateFiles, names, type GeneratorCallback, type Tree } from '@nx/devkit';
import { readServices } from '../../compose/read-services';
import ciGenerator from '../ci/generator';
import composeGenerator from '../compose/generator';
import { updateLockfileTask } from '../update-lockfile';
import { assertServiceName, PACKAGE_SCOPE } from './service-name';

/** Options of `nx g @ittd/nx-plugin:service`. */
export interface ServiceGeneratorOptions {
  name: string;
  description?: string;
  port?: number;
}

/** The port of the first service; later ones take the next free one so compose can publish them all. */
export const FIRST_SERVICE_PORT = 3000;

/**
 * One above the highest web port of the existing services, so compose.yaml never publishes two on one port.
 *
 * @example
 * nextFreePort(tree); // 3001 when applets has 3000
 */
export function nextFreePort(tree: Tree): number {
  const ports = readServices(tree).flatMap((s) =>
    Object.values(s.descriptor.processes).map((p) => p.port ?? 0),
  );
  return Math.max(FIRST_SERVICE_PORT - 1, ...ports) + 1;
}

/**
 * `nx g @ittd/nx-plugin:service <name>`: a new service in apps/<name> shaped like applets (runService
 * entry, config, data/domain/http layers with a notes example, a migration, service.json, a passing test
 * on a real database), compose.yaml regenerated so `docker compose up` runs it too, every written file
 * formatted with the workspace's prettier config; the returned callback (run by Nx once the files are on disk)
 * updates package-lock.json, which lists every workspace package, so `npm ci` on a clean clone succeeds.
 *
 * @throws ServiceNameError before anything is written, listing every problem of the name (see service-name.ts).
 * @example
 * // npx nx g @ittd/nx-plugin:service billing --description="Invoices partners"
 */
export default async function serviceGenerator(
  tree: Tree,
  options: ServiceGeneratorOptions,
): Promise<GeneratorCallback> {
  assertServiceName(tree, options.name);
  const root = `apps/${options.name}`;
  const { className, propertyName } = names(options.name);
  generateFiles(tree, join(__dirname, 'files'), root, {
    name: options.name,
    packageName: `${PACKAGE_SCOPE}/${options.name}`,
    className,
    propertyName,
    databaseName: options.name.replace(/-/g, '_'),
    description: (options.description ?? `The ${options.name} service.`).replace(/"/g, "'"),
    port: options.port ?? nextFreePort(tree),
    tmpl: '',
    dot: '.',
  });
  await composeGenerator(tree);
  await ciGenerator(tree);
  await formatFiles(tree);
  return updateLockfileTask(tree);
}
