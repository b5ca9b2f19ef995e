import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerUnauthorized, readBearerToken, requireBearerToken } from '../src/index';
import { listenHttpService } from './support';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

describe('requireBearerToken', () => {
  let url: string;
  let server: Server;
  let logs: Array<Record<string, unknown>>;

  beforeAll(async () => {
    ({ url, server, logs } = await listenHttpService((app) => {
      app.get('/admin/ping', requireBearerToken(ADMIN_TOKEN), (_req, res) => {
        res.json({ pong: true });
      });
    }));
  });

  afterAll(() => {
    server?.close();
  });

  function ping(authorization?: string): Promise<Response> {
    return fetch(`${url}/admin/ping`, {
      headers: authorization === undefined ? {} : { authorization },
    });
  }

  it('lets the right token through, whatever the case of the scheme', async () => {
    for (const authorization of [
      `Bearer ${ADMIN_TOKEN}`,
      `bearer ${ADMIN_TOKEN}`,
      `BEARER  ${ADMIN_TOKEN} `,
    ]) {
      const response = await ping(authorization);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ pong: true });
    }
  });

  it('answers a missing or other-scheme token with 401 and a Bearer challenge', async () => {
    for (const authorization of [undefined, `Basic ${ADMIN_TOKEN}`, 'Bearer', 'Bearer two words']) {
      const response = await ping(authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ittd"');
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(await response.json()).toMatchObject({ status: 401, detail: 'A bearer token is required.' });
    }
  });

  it('answers a wrong token, a prefix of it or a longer one with 401 invalid_token', async () => {
    for (const token of ['wrong-token', ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}0`]) {
      const response = await ping(`Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ittd", error="invalid_token"');
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ status: 401, detail: 'The bearer token is not valid.' });
      expect(body).not.toContain(token);
    }
  });

  it('never writes a token to the logs', async () => {
    await ping(`Bearer ${ADMIN_TOKEN}`);
    await ping('Bearer wrong-token-in-logs');
    expect(logs.some((line) => line.status === 401)).toBe(true);
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(ADMIN_TOKEN);
    expect(logged).not.toContain('wrong-token-in-logs');
  });

  it('refuses to guard with an empty token', () => {
    expect(() => requireBearerToken('')).toThrow(/non-empty/);
  });
});

describe('readBearerToken with bearerUnauthorized, for per-user tokens', () => {
  let url: string;
  let server: Server;

  beforeAll(async () => {
    // A per-user guard built from the same parts: only `alice-token` is known.
    ({ url, server } = await listenHttpService((app) => {
      app.get('/me', (req, res) => {
        const token = readBearerToken(req);
        if (token === undefined) throw bearerUnauthorized();
        if (token !== 'alice-token') throw bearerUnauthorized('invalid_token');
        res.json({ user: 'alice' });
      });
    }));
  });

  afterAll(() => {
    server?.close();
  });

  it('reads the token and answers the same challenges', async () => {
    const me = (headers: Record<string, string>) => fetch(`${url}/me`, { headers });
    expect(await (await me({ authorization: 'Bearer alice-token' })).json()).toEqual({ user: 'alice' });
    const missing = await me({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="ittd"');
    const wrong = await me({ authorization: 'Bearer bob-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
