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
