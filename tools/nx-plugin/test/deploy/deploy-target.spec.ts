import { describe, expect, it } from 'vitest';
import { DEFAULT_ENVIRONMENT, serviceTargets } from '../../src/plugin';

describe('inferred deploy target', () => {
  const targets = serviceTargets('notifier', ['production', 'staging', 'local', 'local-swarm']);

  it('deploys after the manifests are generated, never from cache', () => {
    expect(targets.deploy).toMatchObject({
      executor: '@ittd/nx-plugin:deploy',
      dependsOn: ['marathon', 'chronos', 'swarm'],
      cache: false,
      options: { environment: DEFAULT_ENVIRONMENT, orchestrator: 'marathon' },
    });
    expect(targets.deploy.outputs).toBeUndefined();
  });

  it('has one configuration per environment (not compose-only local) on deploy, marathon, chronos and swarm', () => {
    // Nx hands `-c staging` to the dependencies that have that configuration: the manifests match.
    for (const name of ['marathon', 'chronos', 'swarm']) {
      expect(targets[name].configurations).toEqual({
        production: { environment: 'production' },
        staging: { environment: 'staging' },
        'local-swarm': { environment: 'local-swarm' },
      });
    }
    // The environment's name picks the orchestrator: *-swarm deploys to Docker Swarm.
    expect(targets.deploy.configurations).toEqual({
      production: { environment: 'production', orchestrator: 'marathon' },
      staging: { environment: 'staging', orchestrator: 'marathon' },
      'local-swarm': { environment: 'local-swarm', orchestrator: 'swarm' },
    });
    expect(serviceTargets('applets').deploy.configurations).toEqual({
      production: { environment: 'production', orchestrator: 'marathon' },
    });
  });
});
