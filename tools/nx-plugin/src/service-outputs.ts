/**
 * Where each target of a service writes, relative to the workspace root. One place, shared by the inferred
 * targets, the executors and the compose file.
 *
 * @example
 * serviceOutputs('applets').bundle; // 'dist/apps/applets'
 */
export function serviceOutputs(service: string): {
  bundle: string;
  docker: string;
  marathon: string;
  chronos: string;
  metronome: string;
  swarm: string;
} {
  return {
    bundle: `dist/apps/${service}`,
    docker: `dist/docker/${service}`,
    marathon: `dist/deploy/${service}/marathon`,
    chronos: `dist/deploy/${service}/chronos`,
    metronome: `dist/deploy/${service}/metronome`,
    swarm: `dist/deploy/${service}/swarm`,
  };
}
