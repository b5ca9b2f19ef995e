import { describe, expect, it } from 'vitest';
import type { ServiceDescriptor } from '../../src/descriptor/service-descriptor';
import { buildMarathonApp } from '../../src/manifests/marathon-app';
import { appletsDescriptor, context, notifierDescriptor, realServices } from '../support/fixtures';
import { validateMarathonApp } from '../support/reference-schemas';

describe('buildMarathonApp', () => {
  it('builds every process of every real service (applets first) as a valid Marathon app', () => {
    const services = realServices();
    expect(services.map((s) => s.name)).toContain('applets');
    for (const { name, descriptor } of services) {
      for (const environment of Object.keys(descriptor.env ?? { production: {} })) {
        for (const process of Object.keys(descriptor.processes)) {
          const app = buildMarathonApp(descriptor, process, context(name, { environment }));
          expect(validateMarathonApp(app), `${name} ${environment} ${process}`).toEqual([]);
        }
      }
    }
  });

  it('builds every process of a multi-process service as a valid Marathon app', () => {
    for (const environment of ['production', 'staging']) {
      for (const process of ['web', 'worker']) {
        const app = buildMarathonApp(notifierDescriptor, process, context('notifier', { environment }));
        expect(validateMarathonApp(app)).toEqual([]);
      }
    }
  });

  it('runs the exact image with the process args, Marathon 1.5 networking, health on the live path', () => {
    const app = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));
    expect(app.id).toBe('/ittd/production/notifier/web');
    expect(app.container.docker.image).toBe('registry.example.com/ittd/notifier:0123abc');
    expect(app.args).toEqual(['serve']);
    expect(app.networks).toEqual([{ mode: 'container/bridge' }]);
    expect(app.container.portMappings).toEqual([
      { containerPort: 8080, hostPort: 0, name: 'http', protocol: 'tcp' },
    ]);
    expect(app.healthChecks?.[0]).toMatchObject({
      protocol: 'MESOS_HTTP',
      path: '/internal/live',
      portIndex: 0,
    });
    expect(app.readinessChecks?.[0]).toMatchObject({
      protocol: 'HTTP',
      path: '/internal/ready',
      portName: 'http',
    });
    const [readiness] = app.readinessChecks ?? [];
    expect(readiness.timeoutSeconds).toBeLessThan(readiness.intervalSeconds);
    expect({ cpus: app.cpus, mem: app.mem, disk: app.disk, instances: app.instances }).toEqual({
      cpus: 1,
      mem: 512,
      disk: 64,
      instances: 4,
    });
    expect(app.labels).toMatchObject({ 'ittd.service': 'notifier', 'ittd.git-sha': '0123abc' });
  });

  it('keeps secrets as references and declares their source', () => {
    const app = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));
    expect(app.env).toMatchObject({
      PORT: '8080',
      LOG_LEVEL: 'warn',
      DATABASE_URL: { secret: 'database_url' },
      PARTNER_SIGNING_KEY: { secret: 'partner_signing_key' },
    });
    expect(app.secrets).toEqual({
      database_url: { source: 'notifier/database_url' },
      partner_signing_key: { source: 'notifier/partner_signing_key' },
    });
    expect(
      JSON.stringify(
        buildMarathonApp(notifierDescriptor, 'web', context('notifier', { environment: 'staging' })),
      ),
    ).not.toContain('"secrets"');
  });

  it('never takes the fleet down: full health capacity, bounded over-capacity, per process override', () => {
    expect(buildMarathonApp(notifierDescriptor, 'web', context('notifier')).upgradeStrategy).toEqual({
      minimumHealthCapacity: 1,
      maximumOverCapacity: 0.25,
    });
    expect(buildMarathonApp(notifierDescriptor, 'worker', context('notifier')).upgradeStrategy).toEqual({
      minimumHealthCapacity: 1,
      maximumOverCapacity: 0.5,
    });
    const applets = buildMarathonApp(appletsDescriptor(), 'web', context('applets'));
    expect(applets.upgradeStrategy.minimumHealthCapacity).toBe(1);
    expect(applets.upgradeStrategy.maximumOverCapacity).toBeGreaterThan(0);
  });

  it('gives tasks more time than the shutdown deadline: env, then config default, then 15 s', () => {
    // notifier sets SHUTDOWN_TIMEOUT_MS=30000 in production
    expect(buildMarathonApp(notifierDescriptor, 'web', context('notifier')).taskKillGracePeriodSeconds).toBe(
      35,
    );
    const fromSchema = context('notifier', {
      environment: 'staging',
      configSchema: [
        { name: 'SHUTDOWN_TIMEOUT_MS', type: 'number', required: false, default: 21_500, secret: false },
      ],
    });
    expect(buildMarathonApp(notifierDescriptor, 'web', fromSchema).taskKillGracePeriodSeconds).toBe(27);
    const fallback = context('notifier', { environment: 'staging', configSchema: undefined });
    expect(buildMarathonApp(notifierDescriptor, 'web', fallback).taskKillGracePeriodSeconds).toBe(20);
  });

  it('maps the metrics listener as a second, labelled port that marathon-lb does not route', () => {
    const metricsSetting = {
      name: 'METRICS_PORT',
      type: 'number',
      required: false,
      default: 9464,
      secret: false,
    };
    const withMetrics = context('notifier', { configSchema: [metricsSetting] });
    const app = buildMarathonApp(notifierDescriptor, 'web', withMetrics);
    expect(app.container.portMappings).toEqual([
      { containerPort: 8080, hostPort: 0, name: 'http', protocol: 'tcp' },
      {
        containerPort: 9464,
        hostPort: 0,
        name: 'metrics',
        protocol: 'tcp',
        labels: { 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' },
      },
    ]);
    expect(validateMarathonApp(app)).toEqual([]);
    // Health and readiness stay on the API port (index 0, by name), as marathon-lb's HAPROXY_0_* do.
    expect(app.healthChecks?.[0].portIndex).toBe(0);
    // METRICS_PORT equal to the API port (or 0): metrics on the API port, behind METRICS_TOKEN; no mapping.
    const samePort: ServiceDescriptor = {
      ...notifierDescriptor,
      env: { production: { ...notifierDescriptor.env?.production, METRICS_PORT: '8080' } },
    };
    expect(buildMarathonApp(samePort, 'web', withMetrics).container.portMappings).toHaveLength(1);
  });

  it('gives a process without a port no health or readiness checks', () => {
    const app = buildMarathonApp(notifierDescriptor, 'worker', context('notifier'));
    expect(app.args).toEqual(['worker', '--queue', 'notifications']);
    expect(app.healthChecks).toBeUndefined();
    expect(app.readinessChecks).toBeUndefined();
    expect(app.env.PORT).toBeUndefined();
  });

  it('spreads the tasks of a serving process across agents by default and routes it with marathon-lb', () => {
    const web = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));
    expect(web.constraints).toEqual([['hostname', 'GROUP_BY']]);
    expect(web.labels).toMatchObject({ HAPROXY_GROUP: 'internal' });
    expect(web.labels.HAPROXY_0_VHOST).toBeUndefined();
    const worker = buildMarathonApp(notifierDescriptor, 'worker', context('notifier'));
    expect(worker.constraints).toBeUndefined();
    expect(Object.keys(worker.labels).filter((k) => k.startsWith('HAPROXY'))).toEqual([]);
    expect(validateMarathonApp(web)).toEqual([]);
  });

  it('takes constraints, the virtual host and the marathon-lb group from the descriptor', () => {
    const descriptor: ServiceDescriptor = {
      ...notifierDescriptor,
      processes: {
        ...notifierDescriptor.processes,
        web: {
          ...notifierDescriptor.processes.web,
          constraints: [
            ['hostname', 'UNIQUE'],
            ['rack', 'MAX_PER', '2'],
          ],
          virtualHost: 'notifier.ittd.dev,hooks.ittd.dev',
        },
        worker: { ...notifierDescriptor.processes.worker, constraints: [['zone', 'LIKE', 'eu-.*']] },
      },
    };
    const web = buildMarathonApp(descriptor, 'web', context('notifier'));
    expect(web.constraints).toEqual([
      ['hostname', 'UNIQUE'],
      ['rack', 'MAX_PER', '2'],
    ]);
    expect(web.labels).toMatchObject({
      HAPROXY_GROUP: 'external',
      HAPROXY_0_VHOST: 'notifier.ittd.dev,hooks.ittd.dev',
      HAPROXY_0_MODE: 'http',
    });
    const worker = buildMarathonApp(descriptor, 'worker', context('notifier'));
    expect(worker.constraints).toEqual([['zone', 'LIKE', 'eu-.*']]);
    expect(validateMarathonApp(web)).toEqual([]);
    expect(validateMarathonApp(worker)).toEqual([]);
    const free = { ...descriptor.processes.web, constraints: [] };
    const unconstrained = { ...descriptor, processes: { ...descriptor.processes, web: free } };
    expect(buildMarathonApp(unconstrained, 'web', context('notifier')).constraints).toBeUndefined();
  });

  it('refuses a virtual host on a process without a port', () => {
    const worker = { ...notifierDescriptor.processes.worker, virtualHost: 'x.ittd.dev' };
    const descriptor = { ...notifierDescriptor, processes: { ...notifierDescriptor.processes, worker } };
    expect(() => buildMarathonApp(descriptor, 'worker', context('notifier'))).toThrow(
      'notifier: process worker has a virtualHost or haproxyGroup but no port',
    );
  });

  it('names the processes when asked for an unknown one', () => {
    expect(() => buildMarathonApp(notifierDescriptor, 'cron', context('notifier'))).toThrow(
      'notifier has no process "cron" (has: web, worker)',
    );
  });

  it('the validator is live: broken apps are rejected', () => {
    const app = buildMarathonApp(notifierDescriptor, 'web', context('notifier'));
    expect(validateMarathonApp({ ...app, id: '/ittd/Production/Notifier' })).not.toEqual([]);
    expect(validateMarathonApp({ ...app, cmd: 'node main.js serve' })).not.toEqual([]); // cmd and args together
    expect(validateMarathonApp({ ...app, upgradeStrategy: { minimumHealthCapacity: 1.5 } })).not.toEqual([]);
    expect(validateMarathonApp({ ...app, env: { DATABASE_URL: { vault: 'x' } } })).not.toEqual([]);
    expect(validateMarathonApp({ ...app, healthChecks: [{ protocol: 'GRPC' }] })).not.toEqual([]);
    expect(validateMarathonApp({ ...app, unknownField: true })).not.toEqual([]);
  });
});
