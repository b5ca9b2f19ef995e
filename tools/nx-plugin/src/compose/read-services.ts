import type { Tree } from '@nx/devkit';
import { parseServiceDescriptor } from '../descriptor/load-descriptor';
import type { Service } from '../descriptor/service-descriptor';

/**
 * Every service of the workspace (apps/<svc>/service.json), validated, read through the devkit Tree so
 * generators see pending changes.
 *
 * @example
 * readServices(tree).map((s) => s.name); // ['applets']
 */
export function readServices(tree: Tree): Service[] {
  if (!tree.exists('apps')) return [];
  return tree
    .children('apps')
    .filter((name) => tree.exists(`apps/${name}/service.json`))
    .sort()
    .map((name) => {
      const file = `apps/${name}/service.json`;
      let json: unknown;
      try {
        json = JSON.parse(tree.read(file, 'utf-8') ?? '');
      } catch (error) {
        throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
      }
      return { name, descriptor: parseServiceDescriptor(json, file) };
    });
}
