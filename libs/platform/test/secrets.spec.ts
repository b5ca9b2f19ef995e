import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  generateKeyringEntry,
  parseConfig,
  resealColumns,
  SecretKeyring,
  SecretOpenError,
  secretsConfig,
  sealedKeyId,
} from '../src/index';
import { createTestDatabase, type TestDatabase } from '../src/testing';

const context = (slug: string) => `partners.service_key:${slug}`;

describe('SecretKeyring (AES-256-GCM)', () => {
  const old = generateKeyringEntry('2026-05');
  const fresh = generateKeyringEntry('2026-11');

  it('seals under the first key, with a random IV, and opens only for the same context', () => {
    const keyring = SecretKeyring.fromSetting(`${fresh},${old}`);
    const a = keyring.seal('sk_weather_0123456789', context('weather'));
    const b = keyring.seal('sk_weather_0123456789', context('weather'));
    expect(a).not.toBe(b);
    expect(a).not.toContain('sk_weather');
    expect(sealedKeyId(a)).toBe('2026-11');
    expect(keyring.open(a, context('weather'))).toBe('sk_weather_0123456789');
    expect(() => keyring.open(a, context('slack'))).toThrow(SecretOpenError);
  });

  it('opens values of every key of the ring, refuses unknown keys, tampering and clear text', () => {
    const before = SecretKeyring.fromSetting(old).seal('sk_1234567890abcdef', context('w'));
    const both = SecretKeyring.fromSetting(`${fresh},${old}`);
    expect(both.open(before, context('w'))).toBe('sk_1234567890abcdef');
    expect(() => SecretKeyring.fromSetting(fresh).open(before, context('w'))).toThrow(/2026-05/);
    const parts = before.split(':');
    parts[3] = parts[3].startsWith('A') ? `B${parts[3].slice(1)}` : `A${parts[3].slice(1)}`;
    expect(() => both.open(parts.join(':'), context('w'))).toThrow(/does not authenticate/);
    expect(() => both.open('sk_in_clear_0123456789', context('w'))).toThrow(/not sealed/);
  });

  it('never shows key material when logged or inspected', () => {
    const keyring = SecretKeyring.fromSetting(fresh);
    const key = fresh.split(':')[1];
    expect(JSON.stringify(keyring)).not.toContain(key);
    expect(String(Object(keyring)[Symbol.for('nodejs.util.inspect.custom')]())).not.toContain(key);
  });

  it('is configured by SECRETS_KEYS, every problem named without the value', () => {
    const schema = z.object({ ...secretsConfig });
    expect(parseConfig(schema, { SECRETS_KEYS: `${fresh},${old}` }).SECRETS_KEYS).toBe(`${fresh},${old}`);
    for (const bad of ['nokey', 'a:c2hvcnQ=', `${fresh},${fresh}`, 'bad id:AAAA']) {
      let message = '';
      try {
        parseConfig(schema, { SECRETS_KEYS: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/SECRETS_KEYS/);
      expect(message).not.toContain(bad);
    }
  });
});

describe('resealColumns on the real Postgres', () => {
  let database: TestDatabase;
  let db: Kysely<{ partners: { slug: string; service_key: string | null } }>;
  const old = generateKeyringEntry('k1');
  const fresh = generateKeyringEntry('k2');

  beforeAll(async () => {
    database = await createTestDatabase('secrets');
    db = new Kysely({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url }) }),
    });
    await sql`CREATE TABLE partners (slug text PRIMARY KEY, service_key text)`.execute(db);
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  it('seals every row again under the new key (clear ones too), both keys opening meanwhile', async () => {
    const before = SecretKeyring.fromSetting(old);
    const rows: Array<{ slug: string; service_key: string | null }> = Array.from({ length: 25 }, (_, i) => ({
      slug: `p${String(i).padStart(2, '0')}`,
      service_key:
        i === 0
          ? 'sk_legacy_in_clear_000'
          : before.seal(`sk_partner_${i}_0123456789`, context(`p${String(i).padStart(2, '0')}`)),
    }));
    rows.push({ slug: 'nokey', service_key: null });
    await db.insertInto('partners').values(rows).execute();

    // During the change: the new key seals, the old one still opens every row not yet sealed again.
    const during = SecretKeyring.fromSetting(`${fresh},${old}`);
    const beforeRotation = await db
      .selectFrom('partners')
      .selectAll()
      .where('slug', '=', 'p05')
      .executeTakeFirstOrThrow();
    expect(during.open(beforeRotation.service_key ?? '', context('p05'))).toBe('sk_partner_5_0123456789');

    const [report] = await resealColumns(
      db,
      during,
      [{ table: 'partners', keyColumn: 'slug', column: 'service_key', context }],
      { batchSize: 7 },
    );
    expect(report).toEqual({ table: 'partners', column: 'service_key', examined: 26, resealed: 25 });

    const after = await db
      .selectFrom('partners')
      .selectAll()
      .where('service_key', 'is not', null)
      .orderBy('slug')
      .execute();
    expect(after).toHaveLength(25);
    const newOnly = SecretKeyring.fromSetting(fresh);
    for (const row of after) {
      expect(sealedKeyId(row.service_key ?? '')).toBe('k2');
      const plain = newOnly.open(row.service_key ?? '', context(row.slug));
      expect(plain).toBe(
        row.slug === 'p00' ? 'sk_legacy_in_clear_000' : `sk_partner_${Number(row.slug.slice(1))}_0123456789`,
      );
    }
    // The raw column holds no key in clear.
    const dump = await sql<{
      text: string;
    }>`SELECT string_agg(service_key, ' ') AS text FROM partners`.execute(db);
    expect(dump.rows[0].text).not.toMatch(/sk_/);

    // Running it again changes nothing.
    const [again] = await resealColumns(db, during, [
      { table: 'partners', keyColumn: 'slug', column: 'service_key', context },
    ]);
    expect(again.resealed).toBe(0);
  });
});
