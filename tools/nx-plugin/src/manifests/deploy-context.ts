import type { ConfigSettingDescription } from '../config/config-settings';

/**
 * What every manifest builder needs besides the descriptor: which service, which image, which environment.
 *
 * @example
 * const context: DeployContext = { service: 'applets', image: 'ittd/applets:3f2c1d0', environment: 'production', gitSha: '3f2c1d0' };
 */
export interface DeployContext {
  /** The service name: its folder under apps/. */
  service: string;
  /** The exact image reference to run (repository:tag). */
  image: string;
  /** The environment whose env the manifests carry, e.g. `production`. */
  environment: string;
  /** The commit the image was built from; becomes a label. */
  gitSha: string;
  /** The service's settings (`dist/apps/<svc>/config-schema.json`), for the shutdown deadline. */
  configSchema?: ConfigSettingDescription[];
}

/**
 * Labels every Marathon app and Metronome job carries, so an operator can find what runs from which commit.
 *
 * @example
 * deployLabels(context, 'web'); // { 'ittd.service': 'applets', 'ittd.process': 'web', ... }
 */
export function deployLabels(context: DeployContext, part: string): Record<string, string> {
  return {
    'ittd.service': context.service,
    'ittd.process': part,
    'ittd.environment': context.environment,
    'ittd.git-sha': context.gitSha,
  };
}
