import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { generateKeyringEntry, SecretKeyring, sealedKeyId } from '@ittd/platform';
import { spawnTsx } from '@ittd/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerKeyContext } from '../src/data/partner-key-sealing';
import { pollTrigger } from '../src/jobs/poll-trigger-job';
import {
  pollDependencies,
  startTriggerPollerTestService,
  type TriggerPollerTestService,
} from './support/trigger-poller-test-service';

const run = promisify(execFile);
const oldKey = generateKeyringEntry('2026-05');
const newKey = generateKeyringEntry('2026-11');
const partners = {
  alpha: { url: 'http://127.0.0.1:9/alpha', serviceKey: 'sk_alpha_0123456789abcdef' },
  beta: { url: 'http://127.0.0.1:9/beta', serviceKey: 'sk_beta_0123456789abcdef' },
};

let service: TriggerPollerTestService;
/** A partner answering every trigger check with 5 MB (Content-Length announced, or streamed). */
let bigPartner: Server;
let bigPartnerUrl: string;

beforeAll(async () => {
  service = await startTriggerPollerTestService({
    SECRETS_KEYS: oldKey,
    PREAUTH_RATE_LIMIT_PER_MINUTE: '40',
  });
  for (const [slug, partner] of Object.entries(partners)) await service.putPartner(slug, partner);
  const fiveMegabytes = Buffer.alloc(5 * 1024 * 1024, 'x');
  bigPartner = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(fiveMegabytes.length),
    });
    res.end(fiveMegabytes);
  });
  await new Promise<void>((resolve) => bigPartner.listen(0, '127.0.0.1', resolve));
  bigPartnerUrl = `http://127.0.0.1:${(bigPartner.address() as AddressInfo).port}`;
});

afterAll(async () => {
  bigPartner?.closeAllConnections();
  bigPartner?.close();
  await service?.stop();
});

describe('partner keys at rest', () => {
  it('a pg_dump of the partners table holds no key in clear; the notification digest still matches', async () => {
    const { stdout } = await run('pg_dump', ['--data-only', '--table=partners', service.env.DATABASE_URL]);
    expect(stdout).toContain('alpha');
    for (const partner of Object.values(partners)) expect(stdout).not.toContain(partner.serviceKey);
    const notified = await service.request('POST', '/v1/notifications', {
      headers: { 'IFTTT-Service-Key': partners.alpha.serviceKey },
      body: { data: [{ trigger_identity: 'ti_none' }] },
    });
    expect(notified.status).toBe(202);
  });

  it('rotate-secrets seals every row under the new key; both keys open meanwhile, the new alone after', async () => {
    const proc = spawnTsx('src/main.ts', ['run-job', 'rotate-secrets'], {
      ...service.env,
      SECRETS_KEYS: `${newKey},${oldKey}`,
      LOG_LEVEL: 'info',
    });
    expect(await proc.exited(30_000)).toBe(0);
    expect(proc.stdout()).toContain('"resealed":2');
    const rows = await service.db
      .selectFrom('partners')
      .select(['slug', 'service_key_sealed'])
      .orderBy('slug')
      .execute();
    expect(rows.map((row) => sealedKeyId(row.service_key_sealed))).toEqual(['2026-11', '2026-11']);
    const open = (keyring: SecretKeyring) =>
      rows.map((row) => keyring.open(row.service_key_sealed, partnerKeyContext(row.slug)));
    expect(open(SecretKeyring.fromSetting(`${newKey},${oldKey}`))).toEqual([
      partners.alpha.serviceKey,
      partners.beta.serviceKey,
    ]);
    expect(open(SecretKeyring.fromSetting(newKey))).toEqual([
      partners.alpha.serviceKey,
      partners.beta.serviceKey,
    ]);
    // The old key alone no longer opens them.
    expect(() => open(SecretKeyring.fromSetting(oldKey))).toThrow(/2026-11/);
  });
});

describe('partner URLs and answers', () => {
  it('refuses a partner at http://10.0.0.1 outside local, when it is put (nothing is sent)', async () => {
    const production = await startTriggerPollerTestService({ ENVIRONMENT: 'production' });
    try {
      for (const url of [
        'http://10.0.0.1',
        'https://10.0.0.1/ifttt',
        'https://[fd00::1]',
        'http://127.0.0.1:9',
      ]) {
        const refused = await production.request('PUT', '/admin/partners/intranet', {
          token: production.adminToken,
          body: { api_base_url: url, service_key: 'sk_intranet_0123456789' },
        });
        expect(refused.status, url).toBe(422);
        expect(refused.body).toMatchObject({ errors: [{ name: 'api_base_url' }] });
      }
      expect(await production.db.selectFrom('partners').selectAll().execute()).toEqual([]);
    } finally {
      await production.stop();
    }
    // In local, loopback is allowed but private ranges are not.
    const local = await service.request('PUT', '/admin/partners/intranet', {
      token: service.adminToken,
      body: { api_base_url: 'http://10.0.0.1', service_key: 'sk_intranet_0123456789' },
    });
    expect(local.status).toBe(422);
  });

  it('a 5 MB trigger answer is a failed poll, not a crash', async () => {
    await service.subscribe('ti_big', { url: bigPartnerUrl, serviceKey: 'sk_big_0123456789abcdef' });
    const outcome = await pollTrigger(pollDependencies(service), 'ti_big', {
      signal: new AbortController().signal,
      requestId: 'big-1',
    });
    expect(outcome.failed).toMatch(/body over 1048576 bytes \(PARTNER_MAX_ANSWER_BYTES\)/);
    expect(await service.storedEventIds('ti_big')).toEqual([]);
    expect((await service.request('GET', '/health/live')).status).toBe(200);
  });
});

describe('notifications without a known key', () => {
  it('1,000 of them cost at most the limit of key lookups (checked in Redis first)', async () => {
    const lookups = async (): Promise<number> => {
      const metric = await service.ctx.metrics.getSingleMetric('db_queries_total')?.get();
      return metric?.values.find((value) => value.labels.table === 'partners')?.value ?? 0;
    };
    const counters = await service.redis.keys(`${service.env.REDIS_KEY_PREFIX}preauth:*`);
    if (counters.length > 0) await service.redis.del(...counters);
    const msIntoMinute = Date.now() % 60_000;
    if (msIntoMinute > 45_000)
      await new Promise((resolve) => setTimeout(resolve, 60_000 - msIntoMinute + 50));
    const before = await lookups();
    const statuses: number[] = [];
    for (let batch = 0; batch < 50; batch++) {
      statuses.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const response = await fetch(`${service.url}/v1/notifications`, {
              method: 'POST',
              headers: {
                'IFTTT-Service-Key': `sk_guess_${batch}_${i}_0123456789`,
                'content-type': 'application/json',
              },
              body: '{"data":[]}',
              signal: AbortSignal.timeout(10_000),
            });
            await response.arrayBuffer();
            return response.status;
          }),
        )),
      );
    }
    expect(statuses.filter((status) => status === 401)).toHaveLength(40);
    expect(statuses.filter((status) => status === 429)).toHaveLength(960);
    expect((await lookups()) - before).toBe(40);
  });
});
