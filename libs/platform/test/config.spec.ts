import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  baseServiceConfig,
  ConfigError,
  type ConfigSchema,
  boolField,
  configField,
  databaseConfig,
  DEFAULT_SHUTDOWN_DRAIN_MS,
  describeConfig,
  EX_CONFIG,
  httpConfig,
  intField,
  lifecycleConfig,
  loggingConfig,
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
  ...loggingConfig,
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

/** The problems parseConfig reports for `env`, as `NAME: message` lines in report order (none: `[]`). */
function problemsOf(env: Record<string, string>, of: ConfigSchema = schema): string[] {
  try {
    parseConfig(of, env, 'test');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((problem) => `${problem.name}: ${problem.message}`);
  }
}

const required = { DATABASE_URL: 'postgres://u:p@db/x', REDIS_URL: 'redis://cache:6379' };

describe('parseConfig: blank values and loose coercion', () => {
  it('treats a value of only whitespace as unset: the default applies', () => {
    const config = parseConfig(schema, {
      ...required,
      SHUTDOWN_DRAIN_MS: '   ',
      PORT: '\t',
      MIGRATE_ON_START: ' \n ',
      LOG_LEVEL: ' ',
    });
    expect(config).toMatchObject({
      SHUTDOWN_DRAIN_MS: DEFAULT_SHUTDOWN_DRAIN_MS,
      PORT: 3000,
      MIGRATE_ON_START: true,
    });
  });

  it('treats a value of only whitespace as unset: a field without default is required, not set', () => {
    expect(problemsOf({ DATABASE_URL: '   ', REDIS_URL: '\u00a0' })).toEqual([
      'DATABASE_URL: required, not set',
      'REDIS_URL: required, not set',
    ]);
  });

  it('lists hex numbers with the other problems, in schema order', () => {
    expect(
      problemsOf({ PORT: '0x50', DATABASE_URL: 'postgres://u:p@db/x', SHUTDOWN_DRAIN_MS: '0x1F' }),
    ).toEqual([
      'PORT: expected an integer 1-65535, got "0x50"',
      'REDIS_URL: required, not set',
      'SHUTDOWN_DRAIN_MS: expected an integer 0-600000, got "0x1F"',
    ]);
  });

  const numbers = z.object({ N: intField({ min: -10, max: 2000 }).default(1) });

  it.each([
    '0x1F',
    '0b11',
    '0o7',
    '1e3',
    '1E3',
    '1.5',
    '1.',
    '.5',
    'Infinity',
    '-Infinity',
    'NaN',
    '+5',
    '1_000',
    '1 000',
    '12abc',
    '-',
    '٣',
  ])('rejects %j as a number', (text) => {
    expect(problemsOf({ N: text }, numbers)).toEqual([
      `N: expected an integer -10-2000, got ${JSON.stringify(text)}`,
    ]);
  });

  it.each([
    ['0', 0],
    ['7', 7],
    ['-10', -10],
    ['007', 7],
    ['2000', 2000],
  ])('reads the plain decimal integer %j as %d', (text, value) => {
    expect(parseConfig(numbers, { N: text }).N).toBe(value);
  });

  it.each(['2001', '-11', '99999999999999999999'])('rejects %j, beyond the range, once', (text) => {
    expect(problemsOf({ N: text }, numbers)).toEqual([
      `N: expected an integer -10-2000, got ${JSON.stringify(text)}`,
    ]);
  });

  it('reports a value with leading or trailing whitespace instead of trimming it, a secret without its value', () => {
    expect(
      problemsOf({
        PORT: ' 7 ',
        DATABASE_URL: 'postgres://u:hunter2@db/x\n',
        REDIS_URL: ' redis://cache:6379',
        MIGRATE_ON_START: 'true ',
        LOG_LEVEL: ' info',
        FEATURE_NAME: 'name\t',
      }),
    ).toEqual([
      'PORT: expected no leading or trailing whitespace, got " 7 "',
      'DATABASE_URL: expected no leading or trailing whitespace (value hidden: secret)',
      'MIGRATE_ON_START: expected no leading or trailing whitespace, got "true "',
      'REDIS_URL: expected no leading or trailing whitespace (value hidden: secret)',
      'LOG_LEVEL: expected no leading or trailing whitespace, got " info"',
      'FEATURE_NAME: expected no leading or trailing whitespace, got "name\\t"',
    ]);
  });

  it('every number and boolean setting of the platform groups refuses the loose forms', () => {
    const groups = z.object({ ...baseServiceConfig, ...databaseConfig, ...redisConfig });
    const fields = describeConfig(groups).filter((f) => f.type === 'number' || f.type === 'boolean');
    expect(fields.map((f) => f.name)).toEqual(expect.arrayContaining(['PORT', 'MIGRATE_ON_START']));
    for (const field of fields) {
      for (const loose of field.type === 'number' ? ['0x10', '1e1', '+1', '1.0'] : ['y', 'enabled']) {
        const problems = problemsOf({ ...required, [field.name]: loose }, groups);
        expect(problems, `${field.name}=${loose}`).toHaveLength(1);
        expect(problems[0].startsWith(`${field.name}: `) && problems[0].endsWith(`got "${loose}"`)).toBe(
          true,
        );
      }
    }
  });

  const flags = z.object({ FLAG: boolField() });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('reads the boolean %j as %s', (text, value) => {
    expect(parseConfig(flags, { FLAG: text }).FLAG).toBe(value);
  });

  it.each(['y', 'n', 'enabled', 'disabled', 'truthy', '2', 'ja'])('rejects %j as a boolean', (text) => {
    expect(problemsOf({ FLAG: text }, flags)).toEqual([
      `FLAG: expected true or false (also 1/0, yes/no, on/off), got ${JSON.stringify(text)}`,
    ]);
  });
});

describe('parseConfig: values from files (KEY_FILE, Docker secrets)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'platform-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes `content` to a new file in the temp directory; returns its path. */
  function secretFile(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  it('reads a value from KEY_FILE, removing the one newline `echo | docker secret create` adds', () => {
    const config = parseConfig(schema, {
      DATABASE_URL_FILE: secretFile('database-url', 'postgres://u:hunter2@db/x\n'),
      REDIS_URL_FILE: secretFile('redis-url', 'redis://:pw@cache:6379\r\n'),
      PORT_FILE: secretFile('port', '8080'),
    });
    expect(config).toMatchObject({
      DATABASE_URL: 'postgres://u:hunter2@db/x',
      REDIS_URL: 'redis://:pw@cache:6379',
      PORT: 8080,
    });
  });

  it('removes only one newline: more whitespace at the end is a problem, a secret named by its file only', () => {
    const url = secretFile('padded-url', 'postgres://u:hunter2@db/x\n\n');
    const port = secretFile('padded-port', '8080 \n');
    expect(problemsOf({ ...required, DATABASE_URL: '', DATABASE_URL_FILE: url, PORT_FILE: port })).toEqual([
      `PORT: expected no leading or trailing whitespace, got "8080 " (read from ${JSON.stringify(port)})`,
      `DATABASE_URL: expected no leading or trailing whitespace (value hidden: secret) (read from ${JSON.stringify(url)})`,
    ]);
  });

  it('treats a file of only whitespace (or a blank KEY_FILE) like a blank value: unset', () => {
    expect(
      problemsOf({
        DATABASE_URL_FILE: secretFile('blank', ' \n'),
        REDIS_URL_FILE: '  ',
        PORT_FILE: secretFile('empty', ''),
      }),
    ).toEqual(['DATABASE_URL: required, not set', 'REDIS_URL: required, not set']);
  });

  it('lists KEY and KEY_FILE both set, unreadable files and the other problems together, in schema order', () => {
    const missing = join(dir, 'missing');
    const locked = secretFile('locked', 'redis://cache:6379\n');
    chmodSync(locked, 0o000);
    const root = process.getuid?.() === 0; // root reads any file
    const problems = problemsOf({
      PORT: 'abc',
      DATABASE_URL: 'postgres://u:p@db/x',
      DATABASE_URL_FILE: secretFile('database-url-both', 'postgres://u:hunter2@db/x'),
      REDIS_URL_FILE: root ? missing : locked,
      SHUTDOWN_DRAIN_MS_FILE: dir, // a directory
      FEATURE_NAME_FILE: missing,
    });
    expect(problems).toEqual([
      'PORT: expected an integer 1-65535, got "abc"',
      'DATABASE_URL: set either DATABASE_URL or DATABASE_URL_FILE, not both',
      root
        ? `REDIS_URL_FILE: cannot read ${JSON.stringify(missing)}: ENOENT`
        : `REDIS_URL_FILE: cannot read ${JSON.stringify(locked)}: EACCES`,
      `SHUTDOWN_DRAIN_MS_FILE: cannot read ${JSON.stringify(dir)}: EISDIR`,
      `FEATURE_NAME_FILE: cannot read ${JSON.stringify(missing)}: ENOENT`,
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('never shows a secret read from a file, even when it is the invalid value', () => {
    const path = secretFile('mysql-url', 'mysql://admin:hunter2@db/x\n');
    const error = (() => {
      try {
        parseConfig(schema, { ...required, DATABASE_URL: undefined, DATABASE_URL_FILE: path }, 'applets');
      } catch (caught) {
        return caught;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(
      `  - DATABASE_URL: expected a postgres:// URL (value hidden: secret) (read from ${JSON.stringify(path)})`,
    );
    expect((error as ConfigError).message).not.toContain('hunter2');
  });

  it('leaves KEY_FILE alone when the schema itself has a KEY_FILE setting', () => {
    const withPath = z.object({ CA: z.string().optional(), CA_FILE: z.string().optional() });
    expect(parseConfig(withPath, { CA: 'inline', CA_FILE: '/does/not/exist' })).toEqual({
      CA: 'inline',
      CA_FILE: '/does/not/exist',
    });
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
    expect(secretKeys(schema)).toEqual(['METRICS_TOKEN', 'DATABASE_URL', 'REDIS_URL']);
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

  it('exits 78 listing a hex port, a hex drain and a blank required setting together', async () => {
    const proc = spawnTsx(FIXTURE_MAIN, ['serve'], {
      PORT: '0x50',
      DATABASE_URL: '   ',
      SHUTDOWN_DRAIN_MS: '0x1F',
      SHUTDOWN_TIMEOUT_MS: ' ',
      PARTNER_TOKEN: 'token',
    });
    expect(await proc.exited(60_000)).toBe(EX_CONFIG);
    expect(proc.stderr()).toBe(
      [
        'Invalid configuration for fixture (3 problems):',
        '  - PORT: expected an integer 1-65535, got "0x50"',
        '  - SHUTDOWN_DRAIN_MS: expected an integer 0-600000, got "0x1F"',
        '  - DATABASE_URL: required, not set',
        '',
      ].join('\n'),
    );
  });

  it('exits 78 naming an unreadable secret file by path and code, and takes a secret from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-config-'));
    try {
      const token = join(dir, 'partner-token');
      writeFileSync(token, 'hunter2\n');
      const proc = spawnTsx(FIXTURE_MAIN, ['serve'], {
        DATABASE_URL_FILE: join(dir, 'database-url'),
        PARTNER_TOKEN_FILE: token,
        PORT: '0x50',
      });
      expect(await proc.exited(60_000)).toBe(EX_CONFIG);
      expect(proc.stderr()).toBe(
        [
          'Invalid configuration for fixture (2 problems):',
          '  - PORT: expected an integer 1-65535, got "0x50"',
          `  - DATABASE_URL_FILE: cannot read ${JSON.stringify(join(dir, 'database-url'))}: ENOENT`,
          '',
        ].join('\n'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
