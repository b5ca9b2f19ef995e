import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@nx/devkit';
import { readServiceDescriptor } from '../../src/descriptor/load-descriptor';
import type { Service, ServiceDescriptor } from '../../src/descriptor/service-descriptor';
import type { ConfigSettingDescription } from '../../src/config/config-settings';
import type { DeployContext } from '../../src/manifests/deploy-context';

/** The real descriptor of the applets service, read from the repository. */
export function appletsDescriptor(): ServiceDescriptor {
  return readServiceDescriptor(join(workspaceRoot, 'apps', 'applets', 'service.json'));
}

/** Every real service of the repository (apps/*\/service.json), applets included. */
export function realServices(): Service[] {
  return readdirSync(join(workspaceRoot, 'apps'))
    .filter((name) => existsSync(join(workspaceRoot, 'apps', name, 'service.json')))
    .map((name) => ({
      name,
      descriptor: readServiceDescriptor(join(workspaceRoot, 'apps', name, 'service.json')),
    }));
}

/** A service with several processes, secrets and schedules: what the real one does not exercise yet. */
export const notifierDescriptor: ServiceDescriptor = {
  description: 'Delivers realtime notifications to partners.',
  processes: {
    web: { args: ['serve'], port: 8080, instances: 4, resources: { cpus: 1, mem: 512, disk: 64 } },
    worker: {
      args: ['worker', '--queue', 'notifications'],
      instances: 2,
      upgrade: { maximumOverCapacity: 0.5 },
    },
  },
  health: { livePath: '/internal/live', readyPath: '/internal/ready' },
  upgrade: { minimumHealthCapacity: 1, maximumOverCapacity: 0.25 },
  env: {
    production: {
      LOG_LEVEL: 'warn',
      SHUTDOWN_TIMEOUT_MS: '30000',
      DATABASE_URL: { secret: 'database_url' },
      PARTNER_SIGNING_KEY: { secret: 'partner_signing_key' },
    },
    staging: { LOG_LEVEL: 'debug', DATABASE_URL: 'postgres://staging-db/notifier' },
  },
  jobs: {
    'purge-deliveries': {
      cron: '30 3 * * *',
      timezone: 'Europe/Paris',
      description: 'Delete deliveries older than 30 days',
    },
    'retry-failed': { cron: '*/15 * * * *', resources: { mem: 128 } },
    'weekly-report': { cron: '0 9 * * 1', timezone: 'America/New_York' },
  },
};

/** What the platform's describe-config prints for a typical service (the shape of config-schema.json). */
export const platformSettings: ConfigSettingDescription[] = [
  { name: 'PORT', type: 'number', required: false, default: 3000, secret: false, description: 'TCP port' },
  { name: 'LOG_LEVEL', type: 'enum(info|warn|debug)', required: false, default: 'info', secret: false },
  { name: 'SHUTDOWN_TIMEOUT_MS', type: 'number', required: false, default: 15000, secret: false },
  {
    name: 'DATABASE_URL',
    type: 'string',
    required: true,
    secret: true,
    description: 'Postgres connection URL',
  },
];

/** A deploy context for tests. */
export function context(service: string, overrides: Partial<DeployContext> = {}): DeployContext {
  return {
    service,
    image: `registry.example.com/ittd/${service}:0123abc`,
    environment: 'production',
    gitSha: '0123abc',
    configSchema: platformSettings,
    ...overrides,
  };
}
