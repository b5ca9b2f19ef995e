import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchestratorOf, isLocalEnvironment } from '../../src/deploy/environments';
import { planSwarmDeploy } from '../../src/executors/deploy/swarm-plan';
import { specChanges } from '../../src/executors/deploy/swarm-spec-diff';
import { edgeConfig, edgeRoutes } from '../../src/manifests/swarm-edge';
import { buildSwarmService, readinessProbe, type SwarmUpdateConfig } from '../../src/manifests/swarm-service';
import { context, notifierDescriptor, realServices } from '../support/fixtures';

const NS = 1e9;

describe('buildSwarmService', () => {
  it('runs the image with the process args, replicas, env, and secret references as Docker secrets read through <KEY>_FILE', () => {
    const spec = buildSwarmService(notifierDescriptor, 'web', context('notifier'));
    expect(spec.Name).toBe('production-notifier-web');
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 4 } });
    const container = spec.TaskTemplate.ContainerSpec;
    expect(container.Image).toBe('registry.example.com/ittd/notifier:0123abc');
    expect(container.Args).toEqual(['serve']);
    expect(container.Env).toEqual([
      'DATABASE_URL_FILE=/run/secrets/database_url',
      'LOG_LEVEL=warn',
      'PARTNER_SIGNING_KEY_FILE=/run/secrets/partner_signing_key',
      'PORT=8080',
      'SHUTDOWN_TIMEOUT_MS=30000',
    ]);
    expect(container.Secrets).toEqual([
      {
        SecretName: 'production-notifier-database_url',
        File: { Name: 'database_url', UID: '0', GID: '0', Mode: 0o444 },
      },
      {
        SecretName: 'production-notifier-partner_signing_key',
        File: { Name: 'partner_signing_key', UID: '0', GID: '0', Mode: 0o444 },
      },
    ]);
    // No secret value anywhere in the spec.
    expect(JSON.stringify(spec)).not.toMatch(/postgres:\/\//);
  });

  it('checks readiness, gives the drain its deadline plus a margin, and mirrors minimumHealthCapacity 1 as start-first with rollback', () => {
    const spec = buildSwarmService(notifierDescriptor, 'web', context('notifier'));
    const container = spec.TaskTemplate.ContainerSpec;
    expect(container.Healthcheck?.Test).toEqual(readinessProbe(8080, '/internal/ready'));
    expect(container.Healthcheck?.Interval).toBe(2 * NS);
    expect(container.StopGracePeriod).toBe(35 * NS); // SHUTDOWN_TIMEOUT_MS 30000 + 5 s
    expect(spec.UpdateConfig).toEqual({
      Parallelism: 1,
      Delay: 0,
      FailureAction: 'rollback',
      Monitor: 10 * NS,
      MaxFailureRatio: 0,
      Order: 'start-first',
    });
    expect(spec.RollbackConfig).toMatchObject({ Order: 'start-first', FailureAction: 'pause' });
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'ittd-production', Aliases: ['notifier'] }]);
    expect(spec.TaskTemplate.Resources).toEqual({
      Limits: { NanoCPUs: 1 * NS, MemoryBytes: 512 * 1024 * 1024 },
      Reservations: { MemoryBytes: 512 * 1024 * 1024 },
    });
  });

  it('gives a process without a port no health check, its own alias, and stop-first below capacity 1', () => {
    const worker = buildSwarmService(notifierDescriptor, 'worker', context('notifier'));
    expect(worker.TaskTemplate.ContainerSpec.Healthcheck).toBeUndefined();
    expect(worker.TaskTemplate.Networks[0].Aliases).toEqual(['notifier-worker']);
    const lowered = buildSwarmService(
      { ...notifierDescriptor, upgrade: { minimumHealthCapacity: 0.5 } },
      'worker',
      context('notifier'),
    );
    expect(lowered.UpdateConfig.Order).toBe('stop-first');
  });

  it('builds every process of every real service for local-swarm', () => {
    for (const { name, descriptor } of realServices()) {
      if (!descriptor.env?.['local-swarm']) continue;
      for (const process of Object.keys(descriptor.processes)) {
        const spec = buildSwarmService(descriptor, process, context(name, { environment: 'local-swarm' }));
        expect(spec.Labels['ittd.environment']).toBe('local-swarm');
        expect(spec.Name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/);
      }
    }
  });
});

describe('swarm environments', () => {
  it('selects Swarm by the environment name', () => {
    expect(orchestratorOf('local-swarm')).toBe('swarm');
    expect(orchestratorOf('swarm')).toBe('swarm');
    expect(orchestratorOf('production')).toBe('marathon');
    expect(orchestratorOf('swarmy')).toBe('marathon');
    expect(isLocalEnvironment('local-swarm')).toBe(true);
    expect(isLocalEnvironment('locals')).toBe(false);
  });

  it('refuses a dirty image outside local environments, a spec of another environment, and stop-first on a serving process', () => {
    const spec = buildSwarmService(
      { ...notifierDescriptor, upgrade: { minimumHealthCapacity: 0.5 } },
      'web',
      context('notifier', { environment: 'swarm', image: 'ittd/notifier:abc-dirty-0123456789ab' }),
    );
    const file = { file: 'dist/deploy/notifier/swarm/web.json', name: 'web', content: spec };
    const inSwarm = planSwarmDeploy('notifier', [file], { environment: 'swarm', allowDowntime: false });
    expect(inSwarm.problems.join('\n')).toMatch(/uncommitted changes/);
    expect(inSwarm.problems.join('\n')).toMatch(/stop-first/);
    const other = planSwarmDeploy('notifier', [file], { environment: 'staging-swarm', allowDowntime: true });
    expect(other.problems.join('\n')).toMatch(/generated for swarm, not staging-swarm/);
    expect(other.warnings.join('\n')).toMatch(/allowed: --allow-downtime/);
    const local = buildSwarmService(
      notifierDescriptor,
      'web',
      context('notifier', { environment: 'local-swarm', image: 'ittd/notifier:abc-dirty-0123456789ab' }),
    );
    expect(
      planSwarmDeploy('notifier', [{ ...file, content: local }], {
        environment: 'local-swarm',
        allowDowntime: false,
      }).problems,
    ).toEqual([]);
  });

  it('orders serving (health-checked) processes first', () => {
    const specs = ['worker', 'web'].map((process) => ({
      file: `${process}.json`,
      name: process,
      content: buildSwarmService(notifierDescriptor, process, context('notifier')),
    }));
    const { plan } = planSwarmDeploy('notifier', specs, { environment: 'production', allowDowntime: false });
    expect(plan.steps.map((s) => s.name)).toEqual(['web', 'worker']);
  });
});

describe('specChanges', () => {
  const spec = buildSwarmService(notifierDescriptor, 'web', context('notifier'));

  it('sees nothing in what the daemon stores: zero values left out, defaults and ids added', () => {
    const stored = structuredClone(spec);
    const update: Partial<SwarmUpdateConfig> = stored.UpdateConfig;
    delete update.Delay;
    delete update.MaxFailureRatio;
    Object.assign(stored.TaskTemplate.ContainerSpec, { Isolation: 'default' });
    Object.assign(stored.TaskTemplate, { ForceUpdate: 0 });
    expect(specChanges(spec, stored)).toEqual([]);
  });

  it('names a new image, a changed env var (not its value) and a removed secret', () => {
    const stored = structuredClone(spec);
    stored.TaskTemplate.ContainerSpec.Image = 'registry.example.com/ittd/notifier:old';
    stored.TaskTemplate.ContainerSpec.Env = stored.TaskTemplate.ContainerSpec.Env.map((e: string) =>
      e.startsWith('LOG_LEVEL=') ? 'LOG_LEVEL=hidden-old-value' : e,
    );
    stored.TaskTemplate.ContainerSpec.Secrets = stored.TaskTemplate.ContainerSpec.Secrets?.slice(0, 1);
    const changes = specChanges(spec, stored);
    expect(changes).toContain(
      'TaskTemplate.ContainerSpec.Image: registry.example.com/ittd/notifier:old -> registry.example.com/ittd/notifier:0123abc',
    );
    expect(changes).toContain('TaskTemplate.ContainerSpec.Env: LOG_LEVEL changed');
    expect(changes.some((c) => c.startsWith('TaskTemplate.ContainerSpec.Secrets:'))).toBe(true);
    expect(changes.join('\n')).not.toContain('hidden-old-value');
  });
});

describe('edgeConfig', () => {
  const routes = edgeRoutes(
    'local-swarm',
    realServices().filter((s) => s.descriptor.env?.['local-swarm']),
  );

  it('routes every serving process of the real services on its own port', () => {
    expect(routes.map((r) => r.port).sort()).toEqual([3000, 3010, 3011, 3012, 3013, 3014]);
    expect(routes.find((r) => r.port === 3000)).toEqual({
      port: 3000,
      swarmService: 'local-swarm-applets-web',
      readyPath: '/health/ready',
    });
    const config = edgeConfig(routes);
    expect(config).toContain('server-template task 16 tasks.local-swarm-applets-web:3000');
    expect(config).toContain('option httpchk GET /health/ready');
  });

  it('is a configuration HAProxy accepts (haproxy -c), when HAProxy is installed', (ctx) => {
    let haproxy = '';
    for (const candidate of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy']) {
      try {
        execFileSync(candidate, ['-v']);
        haproxy = candidate;
        break;
      } catch {
        // not here
      }
    }
    if (!haproxy) ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'edge-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), edgeConfig(routes));
      expect(execFileSync(haproxy, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' })).toMatch(
        /valid/,
      );
      writeFileSync(join(dir, 'broken.cfg'), edgeConfig(routes).replace('option httpchk', 'option nonsense'));
      expect(() => execFileSync(haproxy, ['-c', '-f', join(dir, 'broken.cfg')], { stdio: 'pipe' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
