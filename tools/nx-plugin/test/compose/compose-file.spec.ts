import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspaceRoot } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { check, resolveConfig } from 'prettier';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { buildComposeFile, composeYaml, type ComposeFile } from '../../src/compose/compose-file';
import type { Service } from '../../src/descriptor/service-descriptor';
import composeGenerator, { COMPOSE_FILE } from '../../src/generators/compose/generator';
import { notifierDescriptor } from '../support/fixtures';

const notifier: Service = {
  name: 'notifier',
  descriptor: {
    ...notifierDescriptor,
    env: { local: { DATABASE_URL: 'postgres://postgres@postgres:5432/notifier', SIGNING_KEY: 'dev$key' } },
  },
};
const applets: Service = {
  name: 'applets',
  descriptor: { processes: { web: { args: ['serve'], port: 3000 } }, env: { local: { LOG_LEVEL: 'debug' } } },
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** `docker-compose config` on a compose file, in a folder that has the Dockerfile and the bundle folders. */
function composeConfig(yaml: string): ComposeFile {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  mkdirSync(join(dir, 'docker'));
  copyFileSync(join(workspaceRoot, 'docker', 'Dockerfile'), join(dir, 'docker', 'Dockerfile'));
  for (const service of Object.values((parse(yaml) as ComposeFile).services)) {
    if (service.build) mkdirSync(join(dir, service.build.context), { recursive: true });
  }
  const out = execFileSync('docker-compose', ['-f', 'compose.yaml', 'config'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POSTGRES_IMAGE: 'postgres:16-test' },
  });
  return parse(out) as ComposeFile;
}

describe('buildComposeFile', () => {
  const file = buildComposeFile([notifier, applets]);

  it('runs every process after its migration, which runs after the infrastructure is up', () => {
    expect(Object.keys(file.services).sort()).toEqual([
      'applets',
      'applets-migrate',
      'databases',
      'notifier',
      'notifier-migrate',
      'notifier-worker',
      'postgres',
      'redis',
    ]);
    expect(file.services['notifier-migrate']).toMatchObject({
      command: ['migrate'],
      depends_on: {
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        databases: { condition: 'service_completed_successfully' },
      },
    });
    expect(file.services['notifier-worker']).toMatchObject({
      command: ['worker', '--queue', 'notifications'],
      depends_on: { 'notifier-migrate': { condition: 'service_completed_successfully' } },
    });
    expect(file.services['notifier-worker'].ports).toBeUndefined();
  });

  it('builds every service image from docker/Dockerfile with its bundle as context', () => {
    expect(file.services.notifier.build).toEqual({
      context: 'dist/apps/notifier',
      dockerfile: '../../../docker/Dockerfile',
      args: { BASE_IMAGE: '${BASE_IMAGE:-node:24-bookworm-slim}', APP_DIR: '.' },
    });
    expect(file.services.postgres.image).toBe('${POSTGRES_IMAGE:-postgres:16-bookworm}');
    expect(file.services.redis.image).toBe('${REDIS_IMAGE:-redis:7-bookworm}');
  });

  it('publishes web ports, checks the ready path, creates each database, escapes $ in values', () => {
    expect(file.services.notifier.ports).toEqual(['8080:8080']);
    expect(file.services.notifier.healthcheck?.test.join(' ')).toContain(
      'http://127.0.0.1:8080/internal/ready',
    );
    expect(file.services.notifier.environment).toMatchObject({ PORT: '8080', SIGNING_KEY: 'dev$$key' });
    expect(file.services.databases.command?.[0]).toContain('createdb -h postgres -U postgres notifier');
    expect(file.services.databases.command?.[0]).not.toContain('applets');
  });

  it('refuses two services on one host port and a secret reference in env.local', () => {
    const clash: Service = {
      name: 'clash',
      descriptor: { processes: { web: { args: ['serve'], port: 3000 } } },
    };
    expect(() => buildComposeFile([applets, clash])).toThrow('both publish port 3000');
    const secret: Service = {
      name: 'secretive',
      descriptor: { processes: { web: { args: ['serve'] } }, env: { local: { KEY: { secret: 'key' } } } },
    };
    expect(() => buildComposeFile([secret])).toThrow('env.local.KEY is a secret reference');
  });

  it('passes docker-compose config, which resolves the image overrides', () => {
    const resolved = composeConfig(composeYaml(file));
    expect(resolved.services.postgres.image).toBe('postgres:16-test');
    // An unescaped `$key` would have been interpolated away ('dev'); config prints the literal re-escaped.
    expect(resolved.services.notifier.environment?.SIGNING_KEY).toBe('dev$$key');
  });

  it('docker-compose config rejects a broken file (the check is live)', () => {
    const broken = composeYaml(file).replace(
      'condition: service_healthy',
      'condition: when_it_feels_like_it',
    );
    expect(() => composeConfig(broken)).toThrow();
  });
});

describe('compose generator', () => {
  it('the committed compose.yaml is what the generator writes from the real descriptors', async () => {
    const tree = createTreeWithEmptyWorkspace();
    for (const name of readdirSync(join(workspaceRoot, 'apps'))) {
      const descriptor = join(workspaceRoot, 'apps', name, 'service.json');
      if (existsSync(descriptor)) tree.write(`apps/${name}/service.json`, readFileSync(descriptor, 'utf8'));
    }
    await composeGenerator(tree);
    const generated = tree.read(COMPOSE_FILE, 'utf-8') ?? '';
    const committed = readFileSync(join(workspaceRoot, COMPOSE_FILE), 'utf8');
    expect(committed, 'compose.yaml is stale: run `npx nx g @ittd/nx-plugin:compose`').toBe(generated);
    const filepath = join(workspaceRoot, COMPOSE_FILE);
    expect(await check(generated, { ...(await resolveConfig(filepath)), filepath }), 'prettier --check').toBe(
      true,
    );
  });

  it('the committed compose.yaml passes docker-compose config', () => {
    const resolved = composeConfig(readFileSync(join(workspaceRoot, COMPOSE_FILE), 'utf8'));
    expect(resolved.services.applets.depends_on?.['applets-migrate']).toEqual({
      condition: 'service_completed_successfully',
    });
  });
});
