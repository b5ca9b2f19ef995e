import { serviceApiValidators } from '@ittd/service-api/testing';
import { CheckFailure, PartnerClient, type Credentials } from './partner-client';

/** The outcome of one check: its name, and the reason when it failed. */
export interface CheckResult {
  name: string;
  ok: boolean;
  reason?: string;
}

/** Options of {@link runPartnerCheck}. */
export interface PartnerCheckOptions {
  /** The partner's base URL (the Service API is under `<url>/ifttt/v1`). */
  url: string;
  /** The partner's service key (`IFTTT-Service-Key`). */
  serviceKey: string;
  /** Time-out of each call, ms. */
  timeoutMs?: number;
  /** Called with each result as soon as it is known (the CLI prints it). */
  onResult?: (result: CheckResult) => void;
}

type Samples = Record<string, Record<string, unknown>>;

interface TestSetup {
  accessToken?: string;
  samples: {
    triggers?: Samples;
    triggerFieldValidations?: Record<string, Record<string, { valid?: unknown; invalid?: unknown }>>;
    actions?: Samples;
    actionRecordSkipping?: Samples;
  };
}

interface TriggerEvent {
  meta: { id: string; timestamp: number };
}

const CHECK_USER = { timezone: 'UTC' };
const CHECK_SOURCE = { id: 'partner-check', url: 'https://ittd.example/partner-check' };

/**
 * Runs the endpoint tests IFTTT runs against a partner service (../shared/reference/README.md) and checks
 * every request and answer against the Service API's OpenAPI file (its known defect patched as its README
 * says): status with and without a valid key; the test setup first; for each trigger of its samples, at least
 * 3 events newest first with distinct `meta.id`s, `limit` 1 and 0, an unknown extra key ignored, a bad key
 * 401; each trigger field validation sample; each action sample (and an unknown key), a bad key 401; each
 * `actionRecordSkipping` sample answered 400 `SKIP`; user info with the setup's `accessToken` and 401 for a
 * bad token. Checks after a failed setup are not run (they need its samples).
 *
 * @returns every result, in the order run; the partner passes when all are `ok`.
 * @example
 *   const results = await runPartnerCheck({ url: 'http://127.0.0.1:3014', serviceKey: 'sk_…' });
 *   const passed = results.every((result) => result.ok);
 */
export async function runPartnerCheck(options: PartnerCheckOptions): Promise<CheckResult[]> {
  const client = new PartnerClient({
    baseUrl: options.url,
    serviceKey: options.serviceKey,
    timeoutMs: options.timeoutMs ?? 10_000,
    validators: serviceApiValidators(),
  });
  const results: CheckResult[] = [];
  const check = async (name: string, run: () => Promise<void>): Promise<boolean> => {
    let result: CheckResult;
    try {
      await run();
      result = { name, ok: true };
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      result = { name, ok: false, reason: error.message };
    }
    results.push(result);
    options.onResult?.(result);
    return result.ok;
  };
  const key: Credentials = { kind: 'key' };

  await check('status: 200 with the service key', async () => {
    client.expectAnswer(
      await client.call({ method: 'GET', path: '/ifttt/v1/status', credentials: key }),
      200,
    );
  });
  await check('status: a bad service key gets 401', async () => {
    const answer = await client.call({
      method: 'GET',
      path: '/ifttt/v1/status',
      credentials: { kind: 'bad-key' },
    });
    client.expectAnswer(answer, 401);
  });

  let setup: TestSetup | undefined;
  const setupOk = await check('test/setup: samples (TestSetupResponse)', async () => {
    const answer = await client.call({ method: 'POST', path: '/ifttt/v1/test/setup', credentials: key });
    setup = (client.expectAnswer(answer, 200, 'TestSetupResponse') as { data: TestSetup }).data;
  });
  await check('test/setup: a bad service key gets 401', async () => {
    const answer = await client.call({
      method: 'POST',
      path: '/ifttt/v1/test/setup',
      credentials: { kind: 'bad-key' },
    });
    client.expectAnswer(answer, 401);
  });
  if (!setupOk || setup === undefined) return results;
  const { samples, accessToken } = setup;
  // IFTTT sends the user's token beside the key on user calls, when the partner has users.
  const userCall: Credentials = accessToken === undefined ? key : { kind: 'user', token: accessToken };

  if (accessToken !== undefined) {
    await check('user/info: the setup accessToken gets the user (UserInfoResponse)', async () => {
      const answer = await client.call({
        method: 'GET',
        path: '/ifttt/v1/user/info',
        credentials: { kind: 'user', token: accessToken },
      });
      client.expectAnswer(answer, 200, 'UserInfoResponse');
    });
    await check('user/info: a bad bearer token gets 401', async () => {
      const answer = await client.call({
        method: 'GET',
        path: '/ifttt/v1/user/info',
        credentials: { kind: 'bad-user' },
      });
      client.expectAnswer(answer, 401);
    });
  }

  const triggers = Object.entries(samples.triggers ?? {});
  if (triggers.length === 0) {
    await check('test/setup: samples.triggers', async () => {
      throw new CheckFailure('no trigger samples: a service with triggers must give samples for each');
    });
  }
  for (const [slug, fields] of triggers) {
    const path = `/ifttt/v1/triggers/${encodeURIComponent(slug)}`;
    const body = (extra: Record<string, unknown> = {}) => ({
      trigger_identity: `partner-check-${slug}`,
      triggerFields: fields,
      user: CHECK_USER,
      ifttt_source: CHECK_SOURCE,
      ...extra,
    });
    const events = async (extra: Record<string, unknown>, credentials: Credentials = userCall) => {
      const answer = await client.call({
        method: 'POST',
        path,
        body: body(extra),
        requestSchema: 'TriggerCheckRequest',
        credentials,
      });
      return (client.expectAnswer(answer, 200, 'TriggerCheckResponse') as { data: TriggerEvent[] }).data;
    };
    await check(`trigger ${slug}: its samples answer at least 3 events`, async () => {
      const data = await events({});
      if (data.length < 3)
        throw new CheckFailure(`${data.length} event(s) for the samples; IFTTT needs at least 3`);
    });
    await check(`trigger ${slug}: events newest first with distinct meta.id`, async () => {
      const data = await events({ limit: 50 });
      const ids = new Set(data.map((event) => event.meta.id));
      if (ids.size !== data.length) throw new CheckFailure('two events share a meta.id');
      for (let n = 1; n < data.length; n++) {
        if (data[n].meta.timestamp > data[n - 1].meta.timestamp) {
          throw new CheckFailure(
            `event ${n} (${data[n].meta.id}) is newer than event ${n - 1}: not newest first`,
          );
        }
      }
    });
    await check(`trigger ${slug}: limit 1 answers 1 event`, async () => {
      const data = await events({ limit: 1 });
      if (data.length !== 1) throw new CheckFailure(`${data.length} events for limit 1`);
    });
    await check(`trigger ${slug}: limit 0 answers no event`, async () => {
      const data = await events({ limit: 0 });
      if (data.length !== 0) throw new CheckFailure(`${data.length} events for limit 0`);
    });
    await check(`trigger ${slug}: an unknown extra key is ignored`, async () => {
      const data = await events({ partner_check_unknown_key: { ignored: true } });
      if (data.length < 1) throw new CheckFailure('no event with an extra key in the request');
    });
    await check(`trigger ${slug}: a bad service key gets 401`, async () => {
      const answer = await client.call({
        method: 'POST',
        path,
        body: body(),
        requestSchema: 'TriggerCheckRequest',
        credentials: { kind: 'bad-key' },
      });
      client.expectAnswer(answer, 401);
    });
  }

  for (const [slug, fields] of Object.entries(samples.triggerFieldValidations ?? {})) {
    for (const [field, values] of Object.entries(fields)) {
      const path = `/ifttt/v1/triggers/${encodeURIComponent(slug)}/fields/${encodeURIComponent(field)}/validate`;
      for (const which of ['valid', 'invalid'] as const) {
        if (values[which] === undefined) continue;
        await check(`trigger field ${slug}.${field}: the ${which} sample is ${which}`, async () => {
          const answer = await client.call({
            method: 'POST',
            path,
            body: { value: values[which] },
            requestSchema: 'ValidateFieldRequest',
            credentials: userCall,
          });
          const { data } = client.expectAnswer(answer, 200, 'ValidateFieldResponse') as {
            data: { valid: boolean };
          };
          if (data.valid !== (which === 'valid')) throw new CheckFailure(`answered valid: ${data.valid}`);
        });
      }
    }
  }

  for (const [slug, fields] of Object.entries(samples.actions ?? {})) {
    const path = `/ifttt/v1/actions/${encodeURIComponent(slug)}`;
    const body = (extra: Record<string, unknown> = {}) => ({
      actionFields: fields,
      user: CHECK_USER,
      ifttt_source: CHECK_SOURCE,
      ...extra,
    });
    await check(`action ${slug}: its samples run (ActionRunResponse)`, async () => {
      const answer = await client.call({
        method: 'POST',
        path,
        body: body(),
        requestSchema: 'ActionRunRequest',
        credentials: userCall,
      });
      const { data } = client.expectAnswer(answer, 200, 'ActionRunResponse') as { data: unknown[] };
      if (data.length < 1) throw new CheckFailure('data is empty: an action answers the id of what it did');
    });
    await check(`action ${slug}: an unknown extra key is ignored`, async () => {
      const answer = await client.call({
        method: 'POST',
        path,
        body: body({ partner_check_unknown_key: 1 }),
        requestSchema: 'ActionRunRequest',
        credentials: userCall,
      });
      client.expectAnswer(answer, 200, 'ActionRunResponse');
    });
    await check(`action ${slug}: a bad service key gets 401`, async () => {
      const answer = await client.call({
        method: 'POST',
        path,
        body: body(),
        requestSchema: 'ActionRunRequest',
        credentials: { kind: 'bad-key' },
      });
      client.expectAnswer(answer, 401);
    });
  }

  for (const [slug, fields] of Object.entries(samples.actionRecordSkipping ?? {})) {
    await check(`action ${slug}: its skipping samples answer 400 SKIP`, async () => {
      const answer = await client.call({
        method: 'POST',
        path: `/ifttt/v1/actions/${encodeURIComponent(slug)}`,
        body: { actionFields: fields, user: CHECK_USER, ifttt_source: CHECK_SOURCE },
        requestSchema: 'ActionRunRequest',
        credentials: userCall,
      });
      const { errors } = client.expectAnswer(answer, 400) as { errors: { status?: string }[] };
      if (errors[0]?.status !== 'SKIP')
        throw new CheckFailure(`errors[0].status is ${JSON.stringify(errors[0]?.status)}, not "SKIP"`);
    });
  }
  return results;
}
