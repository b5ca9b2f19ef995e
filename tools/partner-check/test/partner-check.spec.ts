import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runPartnerCheck, type CheckResult } from '../src/partner-check';
import { startTinyPartner, type TinyPartner, type TinyPartnerFlaws } from './support/tiny-partner';

const MAIN = fileURLToPath(new URL('../src/partner-check-main.ts', import.meta.url));

let partner: TinyPartner | undefined;
afterEach(async () => {
  await partner?.close();
  partner = undefined;
});

async function check(flaws: TinyPartnerFlaws): Promise<CheckResult[]> {
  partner = await startTinyPartner(flaws);
  return runPartnerCheck({ url: partner.url, serviceKey: partner.serviceKey, timeoutMs: 5000 });
}

const failures = (results: CheckResult[]) => results.filter((result) => !result.ok);

describe('runPartnerCheck', () => {
  it('passes a partner that follows the Service API', async () => {
    const results = await check({});
    expect(failures(results)).toEqual([]);
    expect(results.map((result) => result.name)).toEqual([
      'status: 200 with the service key',
      'status: a bad service key gets 401',
      'test/setup: samples (TestSetupResponse)',
      'test/setup: a bad service key gets 401',
      'trigger ping: its samples answer at least 3 events',
      'trigger ping: events newest first with distinct meta.id',
      'trigger ping: limit 1 answers 1 event',
      'trigger ping: limit 0 answers no event',
      'trigger ping: an unknown extra key is ignored',
      'trigger ping: a bad service key gets 401',
      'action note: its samples run (ActionRunResponse)',
      'action note: an unknown extra key is ignored',
      'action note: a bad service key gets 401',
      'action note: its skipping samples answer 400 SKIP',
    ]);
  });

  it.each<[string, TinyPartnerFlaws, { name: string; reason: RegExp }[]]>([
    [
      'ignores limit',
      { ignoreLimit: true },
      [
        { name: 'trigger ping: limit 1 answers 1 event', reason: /5 events for limit 1/ },
        { name: 'trigger ping: limit 0 answers no event', reason: /5 events for limit 0/ },
      ],
    ],
    [
      'has fewer than 3 events',
      { eventCount: 2 },
      [{ name: 'trigger ping: its samples answer at least 3 events', reason: /2 event\(s\).*at least 3/ }],
    ],
    [
      'answers oldest first',
      { oldestFirst: true },
      [{ name: 'trigger ping: events newest first with distinct meta.id', reason: /not newest first/ }],
    ],
    [
      'rejects unknown keys',
      { strictKeys: true },
      [{ name: 'trigger ping: an unknown extra key is ignored', reason: /expected HTTP 200, got 400/ }],
    ],
    [
      'does not answer SKIP',
      { noSkip: true },
      [{ name: 'action note: its skipping samples answer 400 SKIP', reason: /not "SKIP"/ }],
    ],
  ])('names the failure of a partner that %s', async (_what, flaws, expected) => {
    const failed = failures(await check(flaws));
    expect(failed).toEqual(
      expected.map(({ name, reason }) => ({ name, ok: false, reason: expect.stringMatching(reason) })),
    );
  });

  it('names every check a bad key should fail, for a partner that accepts any key', async () => {
    const failed = failures(await check({ acceptAnyKey: true }));
    expect(failed.map((result) => result.name)).toEqual([
      'status: a bad service key gets 401',
      'test/setup: a bad service key gets 401',
      'trigger ping: a bad service key gets 401',
      'action note: a bad service key gets 401',
    ]);
    expect(failed[0].reason).toMatch(/expected HTTP 401, got 200/);
  });

  it('stops after the status checks and a failed setup when nothing answers', async () => {
    const closed = await startTinyPartner();
    await closed.close(); // its port now refuses connections
    const results = await runPartnerCheck({ url: closed.url, serviceKey: 'k', timeoutMs: 2000 });
    expect(results.map((result) => result.ok)).toEqual([false, false, false, false]);
    expect(results[2]).toMatchObject({
      name: 'test/setup: samples (TestSetupResponse)',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('the partner:check command', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', MAIN, ...args],
        { timeout: 60_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
        },
      );
    });

  it('prints one line per check and exits 1 naming the failure', async () => {
    partner = await startTinyPartner({ noSkip: true });
    const { code, stdout } = await run(['--url', partner.url, '--key', partner.serviceKey]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('PASS  '))).toHaveLength(13);
    expect(lines).toContainEqual(
      expect.stringMatching(/^FAIL {2}action note: its skipping samples answer 400 SKIP: .*not "SKIP"/),
    );
    expect(lines.at(-1)).toBe(`partner:check ${partner.url}: 13 passed, 1 failed`);
  });

  it('exits 0 for a conforming partner and 2 for bad arguments', async () => {
    partner = await startTinyPartner();
    expect((await run(['--url', partner.url, '--key', partner.serviceKey])).code).toBe(0);
    const bad = await run(['--url', 'ftp://example.com', '--key', 'k']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected an http(s) URL');
    expect((await run(['--url', partner.url])).code).toBe(2);
  });
});
