import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  configField,
  databaseConfig,
  DEFAULT_SHUTDOWN_DRAIN_MS,
  describeConfig,
  EX_CONFIG,
  httpConfig,
  lifecycleConfig,
  parseConfig,
  redactConfig,
  redisConfig,
  secretKeys,
} from '../src/index';
import { spawnTsx } from '../src/testing';
import { FIXTURE_MAIN } from './support';

const schema = z.object({
  ...httpConfig,
  ...databaseConfig,
  ...redisConfig,
  ...lifecycleConfig,
  FEATURE_NAME: configField(z.string().optional(), { description: 'an optional setting' }),
});

describe('parseConfig', () => {
  it('applies defaults and coerces numbers and booleans', () => {
    const config = parseConfig(schema, {
      DATABASE_URL: 'postgres://u:p@db/x',
      REDIS_URL: 'redis://cache:6379',
      MIGRATE_ON_START: 'false',
      PORT: '',
    });
    expect(config).toMatchObject({
      PORT: 3000,
      BODY_LIMIT: '100kb',
      DATABASE_POOL_MAX: 10,
      MIGRATE_ON_START: false,
      SHUTDOWN_DRAIN_MS: DEFAULT_SHUTDOWN_DRAIN_MS,
    });
  });

  it('reports every problem at once and never quotes a secret', () => {
    const secret = 'mysql://admin:hunter2@db/x';
    const error = (() => {
      try {
        parseConfig(schema, { PORT: 'abc', DATABASE_URL: secret, SHUTDOWN_DRAIN_MS: '-5' }, 'applets');
      } catch (caught) {
        return caught;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(problems.map((p) => p.name).sort()).toEqual([
      'DATABASE_URL',
      'PORT',
      'REDIS_URL',
      'SHUTDOWN_DRAIN_MS',
    ]);
    expect(message).toContain('Invalid configuration for applets (4 problems):');
    expect(message).toContain('  - PORT: expected an integer 1-65535, got "abc"');
    expect(message).toContain('  - REDIS_URL: required, not set');
    expect(message).toContain('  - DATABASE_URL: expected a postgres:// URL (value hidden: secret)');
    expect(message).not.toContain('hunter2');
  });
});

describe('describeConfig', () => {
  it('lists name, type, required, default, secret and description of every field', () => {
    const fields = describeConfig(schema);
    expect(fields.map((f) => f.name)).toEqual(Object.keys(schema.shape));
    expect(fields.find((f) => f.name === 'PORT')).toEqual({
      name: 'PORT',
      type: 'number',
      required: false,
      default: 3000,
      secret: false,
      description: 'TCP port the HTTP server listens on',
    });
    expect(fields.find((f) => f.name === 'DATABASE_URL')).toMatchObject({
      type: 'string',
      required: true,
      secret: true,
    });
    expect(fields.find((f) => f.name === 'MIGRATE_ON_START')).toMatchObject({
      type: 'boolean',
      default: true,
    });
    expect(fields.find((f) => f.name === 'FEATURE_NAME')).toMatchObject({
      required: false,
      description: 'an optional setting',
    });
    expect(secretKeys(schema)).toEqual(['DATABASE_URL', 'REDIS_URL']);
  });

  it('redacts secrets in a config copy meant for logs', () => {
    const config = parseConfig(schema, {
      DATABASE_URL: 'postgres://u:p@db/x',
      REDIS_URL: 'redis://:pw@cache',
    });
    expect(redactConfig(schema, config)).toMatchObject({
      DATABASE_URL: '[redacted]',
      REDIS_URL: '[redacted]',
      PORT: 3000,
    });
  });
});

describe('a service started with invalid config', { timeout: 120_000 }, () => {
  it('exits 78 with every problem on stderr and the secret hidden', async () => {
    const proc = spawnTsx(FIXTURE_MAIN, ['serve'], {
      PORT: 'abc',
      DATABASE_URL: 'mysql://root:hunter2@db/x',
    });
    expect(await proc.exited(60_000)).toBe(EX_CONFIG);
    expect(proc.stderr()).toBe(
      [
        'Invalid configuration for fixture (3 problems):',
        '  - PORT: expected an integer 1-65535, got "abc"',
        '  - DATABASE_URL: expected a postgres:// URL (value hidden: secret)',
        '  - PARTNER_TOKEN: required, not set',
        '',
      ].join('\n'),
    );
    expect(proc.stdout()).not.toContain('hunter2');
  });

  it('describe-config prints the schema as JSON without reading env', async () => {
    const proc = spawnTsx(FIXTURE_MAIN, ['describe-config'], { PARTNER_TOKEN: 'hunter2' });
    expect(await proc.exited(60_000)).toBe(0);
    const described = JSON.parse(proc.stdout()) as {
      service: string;
      env: Array<{ name: string; secret: boolean }>;
    };
    expect(described.service).toBe('fixture');
    expect(described.env.find((f) => f.name === 'PARTNER_TOKEN')).toMatchObject({ secret: true });
    expect(proc.stdout()).not.toContain('hunter2');
  });
});
