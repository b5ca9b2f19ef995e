import baseConfig from '../../eslint.config.mjs';

// The cross-service test starts the services in its own process, so it imports their service definitions
// (and applets' trigger identity rule); Nx forbids importing apps anywhere, so these entry points, and only
// here, are allowed. No app may import another, nor this project.
const serviceEntryPoints = [
  '@ittd/applets/src/applets-service',
  '@ittd/applets/src/domain/trigger-identity',
  '@ittd/trigger-poller/src/trigger-poller-service',
  '@ittd/actions/src/actions-service',
  '@ittd/partner-sandbox/src/partner-sandbox-service',
];

const boundaries = baseConfig.find((entry) => entry.rules?.['@nx/enforce-module-boundaries']);
const [level, options] = boundaries.rules['@nx/enforce-module-boundaries'];

export default [
  ...baseConfig,
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        level,
        { ...options, allow: [...options.allow, ...serviceEntryPoints] },
      ],
    },
  },
];
