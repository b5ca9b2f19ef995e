/** Where a deploy goes: Marathon (with Metronome/Chronos for jobs), or a Docker Swarm through the Engine API. */
export type Orchestrator = 'marathon' | 'swarm';

/**
 * The orchestrator of an environment, from its name: `swarm` and `*-swarm` (e.g. `local-swarm`) deploy to the
 * Docker Swarm of the engine at DOCKER_HOST; every other environment to Marathon.
 *
 * @example
 * orchestratorOf('local-swarm'); // 'swarm'
 * orchestratorOf('production'); // 'marathon'
 */
export function orchestratorOf(environment: string): Orchestrator {
  return environment === 'swarm' || environment.endsWith('-swarm') ? 'swarm' : 'marathon';
}

/**
 * Whether an environment is a developer's own (`local`, `local-swarm`, ...): the only ones where an image
 * built from a dirty tree may run and where secret settings may have plain (development) values.
 *
 * @example
 * isLocalEnvironment('local-swarm'); // true
 * isLocalEnvironment('staging'); // false
 */
export function isLocalEnvironment(environment: string): boolean {
  return environment === 'local' || environment.startsWith('local-');
}
