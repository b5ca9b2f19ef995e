import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxTestEnv } from './support/sandbox-test-env';

/** The partner conformance check's command: what `npm run partner:check` runs (tools/partner-check). */
const PARTNER_CHECK = fileURLToPath(
  new URL('../../../tools/partner-check/src/partner-check-main.ts', import.meta.url),
);

/** Runs `partner:check --url <url> --key <key>` as a process; its exit code and printed lines. */
function partnerCheck(url: string, key: string): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', PARTNER_CHECK, '--url', url, '--key', key, '--timeout', '10000'],
      { timeout: 120_000 },
      (error, stdout) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, lines: stdout.trim().split('\n') });
      },
    );
  });
}

let sandbox: SandboxTestEnv;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(() => sandbox?.stop());

describe('partner:check against the sandbox', () => {
  it('passes every check', async () => {
    const { code, lines } = await partnerCheck(sandbox.url, sandbox.serviceKey);
    expect(lines.filter((line) => !line.startsWith('PASS  '))).toEqual([
      expect.stringMatching(/^partner:check .*: \d+ passed, 0 failed$/),
    ]);
    expect(lines).toContain('PASS  trigger new_item: its samples answer at least 3 events');
    expect(lines).toContain('PASS  action add_item: its skipping samples answer 400 SKIP');
    expect(code).toBe(0);
  });

  it('names the failure when the sandbox drops meta.id, and fails with the wrong key', async () => {
    await sandbox.control('PUT', '/faults', { drop_meta_id: true, scope: 'triggers' });
    try {
      const broken = await partnerCheck(sandbox.url, sandbox.serviceKey);
      expect(broken.code).toBe(1);
      expect(broken.lines).toContain(
        "FAIL  trigger new_item: limit 1 answers 1 event: answer breaks TriggerCheckResponse: /data/0/meta must have required property 'id'",
      );
      expect(
        broken.lines
          .filter((line) => line.startsWith('FAIL'))
          .every((line) => line.includes("property 'id'")),
      ).toBe(true);
    } finally {
      await sandbox.control('DELETE', '/faults');
    }
    const wrongKey = await partnerCheck(sandbox.url, 'not-the-sandbox-key-0123');
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.lines).toContainEqual(
      expect.stringMatching(
        /^FAIL {2}test\/setup: samples \(TestSetupResponse\): expected HTTP 200, got 401/,
      ),
    );
  });
});
