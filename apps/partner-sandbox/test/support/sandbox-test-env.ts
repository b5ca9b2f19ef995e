import { randomBytes } from 'node:crypto';
import { startService, type RunningService } from '@ittd/platform';
import { createTestDatabase, type TestDatabase } from '@ittd/platform/testing';
import type { configSchema } from '../../src/config';
import type { DB } from '../../src/data/database';
import { partnerSandboxService } from '../../src/partner-sandbox-service';

/** An answer: status, headers and the parsed JSON body (`undefined` when empty). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read answers by path
}

/** How a test calls the sandbox: credentials and headers of one call. */
export interface CallOptions {
  body?: unknown;
  /** IFTTT-Service-Key; the sandbox's key by default, `null` for none. */
  key?: string | null;
  /** A bearer token. */
  token?: string;
  headers?: Record<string, string>;
}

/** One test file's sandbox, on its own database; `env` overrides its settings. */
export interface SandboxTestEnv {
  service: RunningService<typeof configSchema, DB>;
  url: string;
  serviceKey: string;
  controlToken: string;
  env: Record<string, string>;
  /** A Service API call (`/ifttt/v1` + path) with the service key unless told otherwise. */
  api(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** A control API call (`/control` + path) with the control token. */
  control(method: string, path: string, body?: unknown): Promise<Answer>;
  stop(): Promise<void>;
}

/**
 * Starts the sandbox on a fresh database and port 0.
 *
 * @example
 *   const sandbox = await startSandbox({ FAULT_LATENCY_MS: '50' });
 *   afterAll(() => sandbox.stop());
 */
export async function startSandbox(extraEnv: Record<string, string> = {}): Promise<SandboxTestEnv> {
  const database: TestDatabase = await createTestDatabase('partner_sandbox');
  const serviceKey = `sk_${randomBytes(16).toString('hex')}`;
  const controlToken = randomBytes(24).toString('base64url');
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    DATABASE_POOL_MAX: '4',
    SERVICE_KEY: serviceKey,
    CONTROL_TOKEN: controlToken,
    FAULT_REFRESH_MS: '100',
    ...extraEnv,
  };
  let service: RunningService<typeof configSchema, DB>;
  try {
    service = await startService(partnerSandboxService, { env, port: 0, host: '127.0.0.1' });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const call = async (method: string, url: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  };
  return {
    service,
    url: service.url,
    serviceKey,
    controlToken,
    env,
    api(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      const key = options.key === undefined ? serviceKey : options.key;
      if (key !== null) headers['ifttt-service-key'] = key;
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      return call(method, `${service.url}/ifttt/v1${path}`, headers, options.body);
    },
    control(method, path, body) {
      return call(method, `${service.url}/control${path}`, { authorization: `Bearer ${controlToken}` }, body);
    },
    async stop() {
      await service.stop();
      await database.drop();
    },
  };
}

/** A valid trigger check body for `fields`, as IFTTT sends it. */
export function triggerBody(fields: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    trigger_identity: `ti_${randomBytes(6).toString('hex')}`,
    triggerFields: fields,
    user: { timezone: 'Europe/Berlin' },
    ...extra,
  };
}
