import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundUrlError, outboundUrlPolicy, readLimitedBody } from '../src/index';

/** A resolver for names the tests make up; no DNS query and no request ever leaves for these addresses. */
const fakeDns = (table: Record<string, string[]>) => async (host: string) => {
  const addresses = table[host];
  if (addresses === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return addresses;
};

describe('outboundUrlPolicy (checked without sending anything)', () => {
  const dns = fakeDns({
    'partner.example': ['93.184.216.34'],
    'internal.example': ['93.184.216.34', '10.1.2.3'],
    'metadata.example': ['169.254.169.254'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'v6local.example': ['fd00::1'],
  });

  it('outside local: https to public addresses only', async () => {
    const policy = outboundUrlPolicy({ ENVIRONMENT: 'production', PARTNER_ALLOWED_NETWORKS: '' }, dns);
    await expect(policy.check('https://partner.example/ifttt')).resolves.toBeUndefined();
    await expect(policy.check('http://partner.example')).rejects.toThrow(/must be https/);
    await expect(policy.check('http://10.0.0.1')).rejects.toThrow(OutboundUrlError);
    await expect(policy.check('https://10.0.0.1')).rejects.toThrow(/private/);
    await expect(policy.check('https://127.0.0.1:8443')).rejects.toThrow(/loopback/);
    await expect(policy.check('https://[::1]')).rejects.toThrow(/loopback/);
    await expect(policy.check('https://internal.example')).rejects.toThrow(/10\.1\.2\.3.*private/);
    await expect(policy.check('https://metadata.example')).rejects.toThrow(/link-local/);
    await expect(policy.check('https://mapped.example')).rejects.toThrow(/loopback/);
    await expect(policy.check('https://v6local.example')).rejects.toThrow(/unique local/);
    await expect(policy.check('https://user:pw@partner.example')).rejects.toThrow(/user name or password/);
    const unresolvable = await policy.check('https://nowhere.example').catch((error: unknown) => error);
    expect(unresolvable).toMatchObject({ kind: 'unresolvable' });
  });

  it('an allow-list lets named private networks through; local allows http and loopback', async () => {
    const allowing = outboundUrlPolicy(
      { ENVIRONMENT: 'production', PARTNER_ALLOWED_NETWORKS: '10.0.0.0/8, fd00::/8' },
      dns,
    );
    await expect(allowing.check('https://internal.example')).resolves.toBeUndefined();
    await expect(allowing.check('https://v6local.example')).resolves.toBeUndefined();
    await expect(allowing.check('https://metadata.example')).rejects.toThrow(/link-local/);

    const local = outboundUrlPolicy({ ENVIRONMENT: 'local', PARTNER_ALLOWED_NETWORKS: '' }, dns);
    await expect(local.check('http://127.0.0.1:4010')).resolves.toBeUndefined();
    await expect(local.check('http://10.0.0.1')).rejects.toThrow(/private/);
    await expect(local.check('ftp://127.0.0.1')).rejects.toThrow(/http\(s\)/);
  });
});

describe('readLimitedBody', () => {
  let server: Server;
  let url: string;
  const fiveMegabytes = 5 * 1024 * 1024;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      if (req.url === '/chunked') {
        // No Content-Length: the size is only found while reading.
        let sent = 0;
        const more = (): void => {
          while (sent < fiveMegabytes) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      } else if (req.url === '/big') {
        res.setHeader('content-length', String(fiveMegabytes));
        res.end(Buffer.alloc(fiveMegabytes, 'a'));
      } else res.end('{"data":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('refuses a 5 MB answer (announced or streamed) at a 1 MB limit, and reads a small one', async () => {
    expect(await readLimitedBody(await fetch(`${url}/big`), 1_048_576)).toBeUndefined();
    expect(await readLimitedBody(await fetch(`${url}/chunked`), 1_048_576)).toBeUndefined();
    expect(await readLimitedBody(await fetch(`${url}/small`), 1_048_576)).toBe('{"data":[]}');
  });
});
