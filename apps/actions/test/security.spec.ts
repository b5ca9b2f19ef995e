import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyringEntry, SecretKeyring, sealedKeyId } from '@ittd/platform';
import { spawnTsx } from '@ittd/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerKeyContext } from '../src/partner/partner-key-context';
import { startActionsTestEnv, waitFor, type ActionsTestEnv } from './support/actions-test-env';

const run = promisify(execFile);
const oldKey = generateKeyringEntry('2026-05');
const newKey = generateKeyringEntry('2026-11');
const keys = { slack: 'sk_slack_0123456789abcdef', mail: 'sk_mail_0123456789abcdef' };

let t: ActionsTestEnv;

beforeAll(async () => {
  t = await startActionsTestEnv({ SECRETS_KEYS: oldKey });
  for (const [slug, serviceKey] of Object.entries(keys)) await t.publishPartner(slug, { serviceKey });
  await waitFor(
    'both partners kept',
    async () => (await t.db.selectFrom('partner_services').selectAll().execute()).length === 2,
  );
});

afterAll(async () => {
  await t?.stop();
});

describe('partner keys at rest', () => {
  it('a pg_dump of partner_services holds no key in clear (stored sealed, not as the event carried it)', async () => {
    const { stdout } = await run('pg_dump', ['--data-only', '--table=partner_services', t.env.DATABASE_URL]);
    expect(stdout).toContain('slack');
    for (const key of Object.values(keys)) expect(stdout).not.toContain(key);
    const rows = await t.db
      .selectFrom('partner_services')
      .select(['slug', 'service_key_sealed'])
      .orderBy('slug')
      .execute();
    const keyring = SecretKeyring.fromSetting(oldKey);
    expect(rows.map((row) => keyring.open(row.service_key_sealed, partnerKeyContext(row.slug)))).toEqual([
      keys.mail,
      keys.slack,
    ]);
  });

  it('rotate-secrets seals every row under the new key; both keys open meanwhile, the new alone after', async () => {
    const proc = spawnTsx('src/main.ts', ['run-job', 'rotate-secrets'], {
      ...t.env,
      SECRETS_KEYS: `${newKey},${oldKey}`,
      LOG_LEVEL: 'info',
    });
    expect(await proc.exited(30_000)).toBe(0);
    expect(proc.stdout()).toContain('"resealed":2');
    const rows = await t.db
      .selectFrom('partner_services')
      .select(['slug', 'service_key_sealed'])
      .orderBy('slug')
      .execute();
    expect(rows.map((row) => sealedKeyId(row.service_key_sealed))).toEqual(['2026-11', '2026-11']);
    for (const setting of [`${newKey},${oldKey}`, newKey]) {
      const keyring = SecretKeyring.fromSetting(setting);
      expect(rows.map((row) => keyring.open(row.service_key_sealed, partnerKeyContext(row.slug)))).toEqual([
        keys.mail,
        keys.slack,
      ]);
    }
  });
});
