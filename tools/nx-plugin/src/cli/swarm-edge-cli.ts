import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readServiceDescriptor } from '../descriptor/load-descriptor';
import type { Service } from '../descriptor/service-descriptor';
import { edgeConfig, edgeRoutes } from '../manifests/swarm-edge';

/**
 * `tsx tools/nx-plugin/src/cli/swarm-edge-cli.ts <environment>`: prints the edge's HAProxy configuration
 * for every service of apps/ that has the environment (docker/swarm.sh stores it as a Docker config), then
 * on stderr the ports it publishes, one per line.
 *
 * @example
 * // npx tsx tools/nx-plugin/src/cli/swarm-edge-cli.ts local-swarm > haproxy.cfg
 */
function main(): void {
  const environment = process.argv[2];
  if (!environment) {
    console.error('usage: swarm-edge-cli <environment>');
    process.exit(64);
  }
  const root = resolve(__dirname, '../../../..');
  const services: Service[] = readdirSync(join(root, 'apps'))
    .filter((dir) => existsSync(join(root, 'apps', dir, 'service.json')))
    .map((dir) => ({ name: dir, descriptor: readServiceDescriptor(join(root, 'apps', dir, 'service.json')) }))
    .filter((s) => s.descriptor.env?.[environment] !== undefined);
  const routes = edgeRoutes(environment, services);
  process.stdout.write(edgeConfig(routes));
  for (const route of routes) console.error(route.port);
}

main();
