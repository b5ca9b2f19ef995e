import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseServiceDescriptor,
  readServiceDescriptor,
  ServiceDescriptorError,
} from '../../src/descriptor/load-descriptor';
import { resolveResources, resolveUpgradePolicy } from '../../src/descriptor/service-descriptor';

const FILE = 'apps/demo/service.json';

function errorOf(json: unknown): string {
  try {
    parseServiceDescriptor(json, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceDescriptorError);
    return (error as Error).message;
  }
  throw new Error('expected the descriptor to be rejected');
}

describe('service descriptor schema', () => {
  it('accepts a minimal descriptor and fills defaults from the schema', () => {
    const descriptor = parseServiceDescriptor({ processes: { web: { args: ['serve'], port: 3000 } } }, FILE);
    expect(resolveResources(descriptor.processes.web.resources)).toEqual({ cpus: 0.25, mem: 256, disk: 0 });
    expect(resolveUpgradePolicy(descriptor, 'web')).toEqual({
      minimumHealthCapacity: 1,
      maximumOverCapacity: 0.2,
    });
  });

  it('takes placement constraints, a virtual host and a marathon-lb group per process, checked', () => {
    const web = {
      args: ['serve'],
      port: 3000,
      constraints: [
        ['hostname', 'UNIQUE'],
        ['rack', 'MAX_PER', '2'],
      ],
      virtualHost: 'applets.ittd.dev,www.ittd.dev',
      haproxyGroup: 'external',
    };
    expect(parseServiceDescriptor({ processes: { web } }, FILE).processes.web.constraints).toHaveLength(2);
    const message = errorOf({
      processes: { web: { ...web, constraints: [['hostname', 'SPREAD']], virtualHost: 'Bad Host' } },
    });
    expect(message).toContain('/processes/web/constraints/0/1');
    expect(message).toContain('/processes/web/virtualHost');
  });

  it('names the file and the path of every problem', () => {
    const message = errorOf({
      processes: { web: { args: ['serve'], port: 70000, prot: 1 } },
      jobs: { Nightly: { cron: '0 3 * * *' } },
    });
    expect(message).toContain(`${FILE} is not a valid service descriptor`);
    expect(message).toContain('/processes/web/port: must be <= 65535');
    expect(message).toContain('/processes/web: unknown property "prot"');
    expect(message).toContain('/jobs: bad name "Nightly"');
  });

  it('rejects a missing process list and a process without args', () => {
    expect(errorOf({})).toContain('/: missing required property "processes"');
    expect(errorOf({ processes: { web: {} } })).toContain('/processes/web: missing required property "args"');
  });

  it('says what an env value may be', () => {
    const message = errorOf({
      processes: { web: { args: ['serve'] } },
      env: { production: { DATABASE_URL: { vault: 'x' }, lower_case: 'x' } },
    });
    expect(message).toContain(
      '/env/production/DATABASE_URL: must be a string or a secret reference {"secret": "name"}',
    );
    expect(message).toContain('/env/production: bad name "lower_case"');
  });

  it('rejects a five-field cron of the wrong shape and an upgrade policy out of 0..1', () => {
    const message = errorOf({
      processes: { web: { args: ['serve'], upgrade: { maximumOverCapacity: 2 } } },
      jobs: { nightly: { cron: '0 3 * *' } },
    });
    expect(message).toContain('/processes/web/upgrade/maximumOverCapacity: must be <= 1');
    expect(message).toContain('/jobs/nightly/cron: must match pattern');
  });
});

describe('readServiceDescriptor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'descriptor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file when it is not JSON', () => {
    const file = join(dir, 'service.json');
    writeFileSync(file, '{ "processes": ');
    expect(() => readServiceDescriptor(file)).toThrow(`${file} is not valid JSON`);
  });
});
