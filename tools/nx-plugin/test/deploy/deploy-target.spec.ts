import { describe, expect, it } from 'vitest';
import { DEFAULT_ENVIRONMENT, serviceTargets } from '../../src/plugin';

describe('inferred deploy target', () => {
  const targets = serviceTargets('notifier', ['production', 'staging', 'local']);

  it('deploys after the manifests are generated, never from cache', () => {
    expect(targets.deploy).toMatchObject({
      executor: '@ittd/nx-plugin:deploy',
      dependsOn: ['marathon', 'chronos'],
      cache: false,
      options: { environment: DEFAULT_ENVIRONMENT },
    });
    expect(targets.deploy.outputs).toBeUndefined();
  });

  it('has one configuration per environment (not compose-only local) on deploy, marathon and chronos', () => {
    // Nx hands `-c staging` to the dependencies that have that configuration: the manifests match.
    for (const name of ['deploy', 'marathon', 'chronos']) {
      expect(targets[name].configurations).toEqual({
        production: { environment: 'production' },
        staging: { environment: 'staging' },
      });
    }
    expect(serviceTargets('applets').deploy.configurations).toEqual({
      production: { environment: 'production' },
    });
  });
});
