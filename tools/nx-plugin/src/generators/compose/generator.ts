import type { Tree } from '@nx/devkit';
import { buildComposeFile, composeYaml } from '../../compose/compose-file';
import { readServices } from '../../compose/read-services';

/** Where the generated compose file lives. */
export const COMPOSE_FILE = 'compose.yaml';

/**
 * `nx g @ittd/nx-plugin:compose`: (re)writes compose.yaml at the root from every service descriptor.
 *
 * @example
 * // npx nx g @ittd/nx-plugin:compose
 */
export default async function composeGenerator(tree: Tree): Promise<void> {
  tree.write(COMPOSE_FILE, composeYaml(buildComposeFile(readServices(tree))));
}
