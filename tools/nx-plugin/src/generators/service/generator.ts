import { join } from 'node:path';
import { generateFiles, names, type Tree } from '@nx/devkit';
import { readServices } from '../../compose/read-services';
import ciGenerator from '../ci/generator';
import composeGenerator from '../compose/generator';

/** Options of `nx g @ittd/nx-plugin:service`. */
export interface ServiceGeneratorOptions {
  name: string;
  description?: string;
  port?: number;
}

/** The port of the first service; later ones take the next free one so compose can publish them all. */
export const FIRST_SERVICE_PORT = 3000;

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

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
 * on a real database), then compose.yaml regenerated so `docker compose up` runs it too.
 *
 * @example
 * // npx nx g @ittd/nx-plugin:service billing --description="Invoices partners"
 */
export default async function serviceGenerator(tree: Tree, options: ServiceGeneratorOptions): Promise<void> {
  if (!NAME.test(options.name)) {
    throw new Error(`service name "${options.name}" must be lowercase letters, digits and single dashes`);
  }
  const root = `apps/${options.name}`;
  if (tree.exists(root)) throw new Error(`${root} already exists`);
  const { className, propertyName } = names(options.name);
  generateFiles(tree, join(__dirname, 'files'), root, {
    name: options.name,
    className,
    propertyName,
    databaseName: options.name.replace(/-/g, '_'),
    description: (options.description ?? `The ${options.name} service.`).replace(/"/g, "'"),
    port: options.port ?? nextFreePort(tree),
    tmpl: '',
  });
  await composeGenerator(tree);
  await ciGenerator(tree);
}
