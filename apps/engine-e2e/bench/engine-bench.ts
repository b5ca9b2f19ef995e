/**
 * `npm run bench:engine`: the engine's load benchmark (issue 9). Starts the bundles as separate processes
 * (src/engine-processes.ts, own databases and Redis prefix, removed at the end), registers BENCH_APPLETS
 * (10,000) applets against partner-sandbox and measures, in this order:
 *
 * 1. trigger checks/s: partner polls answered (the sandbox's `POST /ifttt/v1/triggers/new_item` 200s) while
 *    realtime notifications keep every identity's poll queued, for BENCH_SECONDS;
 * 2. notification entries accepted/s (autocannon, trigger-poller's worker stopped so the web process has the
 *    machine): 100-entry and 1-entry requests, and a bare Express route (bench/bare-express-server.mjs) in
 *    the same run as the baseline of the 1-entry rate;
 * 3. event-to-action latency at 100 events/s for BENCH_SECONDS: a sandbox item, then a notification, to one
 *    applet; from the item's creation to the action call's arrival (both the sandbox's clock);
 * 4. action runs/s: one new item in each of the 3 lists the other applets poll, then a notification of every
 *    identity: one run per applet, timed from the notifications to the last call's arrival;
 * 5. exactly once: every (applet, item) pair that should have fired has exactly one record at the sandbox
 *    (read from its database: the control API lists at most 1,000), nothing else recorded.
 *
 * Prints a table and ends with one JSON line. Not a test: run it on a quiet machine, read the load average it
 * prints. Settings that differ from the defaults are in ENGINE_ENV below (and the README says why).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';
import { startEngineProcesses, WORKSPACE_ROOT, type EngineProcesses } from '../src/engine-processes';
import { eventually } from '@ittd/platform/testing';
import { jsonClient, type JsonClient } from '../src/json-client';

const APPLETS = Math.min(Math.max(Number(process.env.BENCH_APPLETS ?? 10_000), 4), 100_000);
const SECONDS = Math.min(Math.max(Number(process.env.BENCH_SECONDS ?? 20), 5), 300);
const EVENTS_PER_SECOND = 100;
const CANNON_CONNECTIONS = 20;
/** The lists the load applets poll (the latency applet alone polls `inbox`). */
const LOAD_LISTS = ['work', 'home', 'archive'] as const;

/** Settings over the defaults: limits a load test must lift (each named in the README's table). */
const ENGINE_ENV = {
  applets: { API_RATE_LIMIT_PER_MINUTE: '1000000', DATABASE_POOL_MAX: '8' },
  'trigger-poller': {
    SCHEDULER_ENABLED: 'false',
    WORKER_CONCURRENCY: '64',
    PARTNER_CONCURRENCY: '64',
    // BENCH_POLL_EVENT_LIMIT: the `limit` of each poll (default 50, the Service API's). At 100 events/s on one
    // identity a poll more than 0.5 s behind misses the items past the newest 50.
    POLL_EVENT_LIMIT: process.env.BENCH_POLL_EVENT_LIMIT ?? '50',
    BODY_LIMIT: '256kb',
    DATABASE_POOL_MAX: '10',
  },
  actions: { WORKER_CONCURRENCY: '64', PARTNER_RATE_LIMIT: '1000000', DATABASE_POOL_MAX: '10' },
  'partner-sandbox': { DATABASE_POOL_MAX: '12' },
};

const loads: number[] = [];
const loadTimer = setInterval(() => loads.push(loadavg()[0]), 1000);
let errors = 0;

function log(line: string): void {
  process.stdout.write(`bench:engine: ${line}\n`);
}

/** Runs `task` over `items` with at most `limit` at once. */
async function pool<T>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index], index);
      }
    }),
  );
}

/** Sums the Prometheus text samples of `metric` whose labels contain every `match` string. */
async function metricSum(url: string, metric: string, match: string[] = []): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (match.every((part) => line.includes(part))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function expectStatus(
  what: string,
  promise: Promise<{ status: number; body: unknown }>,
  status: number,
) {
  const answer = await promise;
  if (answer.status !== status) {
    errors++;
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer;
}

interface Applet {
  id: string;
  identity: string;
  list: string;
}

async function setUp(engine: EngineProcesses, applets: JsonClient, triggerPoller: JsonClient) {
  const admin = engine.env.applets.ADMIN_TOKEN;
  const sandboxKey = engine.env['partner-sandbox'].SERVICE_KEY;
  await expectStatus(
    'register the sandbox',
    applets.request('POST', '/admin/services', {
      token: admin,
      body: {
        slug: 'sandbox',
        name: 'sandbox',
        api_base_url: engine.url('partner-sandbox'),
        service_key: sandboxKey,
      },
    }),
    201,
  );
  await eventually(
    'trigger-poller to know the sandbox',
    async () =>
      (
        await triggerPoller.request('GET', '/admin/partners/sandbox', {
          token: engine.env['trigger-poller'].ADMIN_TOKEN,
        })
      ).status === 200,
  );

  const started = Date.now();
  const userCount = Math.ceil((APPLETS - 1) / LOAD_LISTS.length) + 1;
  const tokens: string[] = new Array<string>(userCount);
  await pool([...Array(userCount).keys()], 16, async (index) => {
    const answer = await expectStatus(
      'create a user',
      applets.request('POST', '/admin/users', { token: admin, body: { name: `bench-${index}` } }),
      201,
    );
    tokens[index] = (answer.body as { token: string }).token;
  });
  // User 0 has the latency applet (inbox); the others one applet per load list, APPLETS in all.
  const specs: { token: string; list: string }[] = [{ token: tokens[0], list: 'inbox' }];
  for (let user = 1; specs.length < APPLETS; user++) {
    for (const list of LOAD_LISTS) if (specs.length < APPLETS) specs.push({ token: tokens[user], list });
  }
  const created: Applet[] = new Array<Applet>(specs.length);
  await pool(specs, 24, async (spec, index) => {
    const answer = await expectStatus(
      'create an applet',
      applets.request('POST', '/v1/applets', {
        token: spec.token,
        body: {
          trigger: { service: 'sandbox', slug: 'new_item', fields: { list: spec.list } },
          action: { service: 'sandbox', slug: 'record_message', fields: { message: '{{list}}:{{title}}' } },
        },
      }),
      201,
    );
    const body = answer.body as { id: string; trigger: { trigger_identity: string } };
    created[index] = { id: body.id, identity: body.trigger.trigger_identity, list: spec.list };
  });
  const createSeconds = (Date.now() - started) / 1000;
  log(`${userCount} users and ${created.length} applets created in ${createSeconds.toFixed(1)} s`);

  // Every identity's baseline poll reaches the sandbox (one 200 per identity at least).
  await eventually(
    'the baseline polls of every identity',
    async () =>
      (await metricSum(engine.metricsUrl('partner-sandbox'), 'http_requests_total', [
        '/triggers/',
        'status="200"',
      ])) >= created.length,
    300_000,
    1000,
  );
  log(`baselines done ${((Date.now() - started) / 1000).toFixed(1)} s after the first request`);
  return created;
}

/** Notifies trigger-poller of `identities` in requests of 1,000 entries, as the partner. */
async function notifyAll(triggerPoller: JsonClient, serviceKey: string, identities: string[]): Promise<void> {
  for (let start = 0; start < identities.length; start += 1000) {
    await expectStatus(
      'a notification',
      triggerPoller.request('POST', '/v1/notifications', {
        headers: { 'ifttt-service-key': serviceKey },
        body: {
          data: identities.slice(start, start + 1000).map((trigger_identity) => ({ trigger_identity })),
        },
      }),
      202,
    );
  }
}

async function queueDepth(url: string, queue: string): Promise<number> {
  return (
    (await metricSum(url, 'jobs_queue_depth', [`queue="${queue}"`, 'state="ready"'])) +
    (await metricSum(url, 'jobs_queue_depth', [`queue="${queue}"`, 'state="leased"']))
  );
}

async function triggerChecks(engine: EngineProcesses, triggerPoller: JsonClient, load: Applet[]) {
  const sandboxUrl = engine.metricsUrl('partner-sandbox');
  const workerUrl = engine.metricsUrl('trigger-poller-worker');
  const key = engine.env['partner-sandbox'].SERVICE_KEY;
  const identities = load.map((applet) => applet.identity);
  const polls = () => metricSum(sandboxUrl, 'http_requests_total', ['/triggers/', 'status="200"']);
  const before = await polls();
  const started = Date.now();
  let cursor = 0;
  // Keep about 2,000 polls waiting: notify the next 1,000 identities whenever fewer are queued.
  while (Date.now() - started < SECONDS * 1000) {
    if ((await queueDepth(workerUrl, 'trigger-polls')) < 2000) {
      const batch = Array.from(
        { length: Math.min(1000, identities.length) },
        (_, offset) => identities[(cursor + offset) % identities.length],
      );
      cursor = (cursor + batch.length) % identities.length;
      await notifyAll(triggerPoller, key, batch);
    } else {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const checks = (await polls()) - before;
  const seconds = (Date.now() - started) / 1000;
  await eventually(
    'the poll queue to drain',
    async () => (await queueDepth(workerUrl, 'trigger-polls')) === 0,
    120_000,
    500,
  );
  return { checks, seconds, perSecond: checks / seconds };
}

async function cannon(url: string, serviceKey: string, entries: string[]) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CANNON_CONNECTIONS,
    duration: Math.min(SECONDS, 10),
    headers: { 'content-type': 'application/json', 'ifttt-service-key': serviceKey },
    body: JSON.stringify({ data: entries.map((trigger_identity) => ({ trigger_identity })) }),
  });
  errors += result.non2xx + result.errors + result.timeouts;
  return {
    reqPerSecond: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

async function startBareExpress(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(WORKSPACE_ROOT, 'apps/engine-e2e/bench/bare-express-server.mjs')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare Express did not start in 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
  });
  return {
    url: `http://127.0.0.1:${port}/v1/notifications`,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function notifications(engine: EngineProcesses, load: Applet[]) {
  const key = engine.env['partner-sandbox'].SERVICE_KEY;
  const url = `${engine.url('trigger-poller')}/v1/notifications`;
  // The worker would poll every queued identity meanwhile; stopped, the web process alone is measured (the
  // entries stay queued in Redis, as a 2xx promises, and the restarted worker polls them).
  await engine.kill('trigger-poller-worker', 'SIGTERM');
  const bare = await startBareExpress();
  try {
    const bareResult = await cannon(bare.url, key, [load[0].identity]);
    const single = await cannon(url, key, [load[1].identity]);
    const hundred = await cannon(
      url,
      key,
      load.slice(0, 100).map((applet) => applet.identity),
    );
    return { bare: bareResult, single, hundred, entriesPerSecond: hundred.reqPerSecond * 100 };
  } finally {
    await bare.stop();
    await engine.start('trigger-poller-worker');
    await eventually(
      'the polls queued by the notifications to drain',
      async () => (await queueDepth(engine.metricsUrl('trigger-poller-worker'), 'trigger-polls')) === 0,
      180_000,
      500,
    );
  }
}

async function latency(
  engine: EngineProcesses,
  triggerPoller: JsonClient,
  sandbox: JsonClient,
  applet: Applet,
) {
  const control = engine.env['partner-sandbox'].CONTROL_TOKEN;
  const key = engine.env['partner-sandbox'].SERVICE_KEY;
  const total = EVENTS_PER_SECOND * SECONDS;
  const titles: string[] = [];
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  for (let index = 0; index < total; index++) {
    const due = started + (index * 1000) / EVENTS_PER_SECOND;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const title = `latency-${index}`;
    titles.push(title);
    const work = (async () => {
      await expectStatus(
        'a sandbox item',
        sandbox.request('POST', '/control/triggers/new_item/events', {
          token: control,
          body: { list: 'inbox', title },
        }),
        201,
      );
      await expectStatus(
        'a notification',
        triggerPoller.request('POST', '/v1/notifications', {
          headers: { 'ifttt-service-key': key },
          body: { data: [{ trigger_identity: applet.identity }] },
        }),
        202,
      );
    })().catch((error: unknown) => log(`latency event ${index}: ${String(error)}`));
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    if (inFlight.size > 200) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const offeredSeconds = (Date.now() - started) / 1000;
  return { titles, offeredPerSecond: total / offeredSeconds };
}

async function fanOut(
  engine: EngineProcesses,
  triggerPoller: JsonClient,
  sandbox: JsonClient,
  load: Applet[],
) {
  const control = engine.env['partner-sandbox'].CONTROL_TOKEN;
  for (const list of LOAD_LISTS) {
    await expectStatus(
      'a sandbox item',
      sandbox.request('POST', '/control/triggers/new_item/events', {
        token: control,
        body: { list, title: 'fan-out' },
      }),
      201,
    );
  }
  const started = new Date();
  await notifyAll(
    triggerPoller,
    engine.env['partner-sandbox'].SERVICE_KEY,
    load.map((applet) => applet.identity),
  );
  return { started };
}

async function main(): Promise<void> {
  log(`${APPLETS} applets, ${SECONDS} s per phase; load average at start ${loadavg()[0].toFixed(2)}`);
  const engine = await startEngineProcesses({ from: 'bundle', isolation: 'unique', env: ENGINE_ENV });
  const sandboxDb = new pg.Client({ connectionString: engine.env['partner-sandbox'].DATABASE_URL });
  let failed = false;
  try {
    await sandboxDb.connect();
    const applets = jsonClient(engine.url('applets'));
    const triggerPoller = jsonClient(engine.url('trigger-poller'));
    const sandbox = jsonClient(engine.url('partner-sandbox'));
    const all = await setUp(engine, applets, triggerPoller);
    const [latencyApplet, ...load] = all;

    const checks = await triggerChecks(engine, triggerPoller, load);
    log(
      `trigger checks: ${checks.checks} in ${checks.seconds.toFixed(1)} s = ${checks.perSecond.toFixed(0)}/s`,
    );

    const notes = await notifications(engine, load);
    const ratio = notes.single.reqPerSecond / notes.bare.reqPerSecond;
    log(
      `notifications: 100-entry ${notes.hundred.reqPerSecond.toFixed(0)} req/s = ${notes.entriesPerSecond.toFixed(0)} entries/s; ` +
        `1-entry ${notes.single.reqPerSecond.toFixed(0)} req/s; bare Express ${notes.bare.reqPerSecond.toFixed(0)} req/s; ratio ${ratio.toFixed(2)}`,
    );

    const offered = await latency(engine, triggerPoller, sandbox, latencyApplet);
    const recordsOf = async (sql: string, params: unknown[]) => (await sandboxDb.query(sql, params)).rows;
    await eventually(
      'every latency event acted on',
      async () =>
        Number(
          (
            await recordsOf(
              `SELECT count(DISTINCT request->'actionFields'->>'message') AS n FROM action_records
               WHERE request->'ifttt_source'->>'id' = $1`,
              [latencyApplet.id],
            )
          )[0].n,
        ) >= offered.titles.length,
      120_000,
      500,
    ).catch((error: unknown) => log(String(error)));
    const latencies = (
      await recordsOf(
        `SELECT extract(epoch FROM (r.received_at - i.created_at)) * 1000 AS ms
         FROM action_records r JOIN items i ON i.list = 'inbox' AND r.request->'actionFields'->>'message' = 'inbox:' || i.title
         WHERE r.request->'ifttt_source'->>'id' = $1`,
        [latencyApplet.id],
      )
    )
      .map((row: { ms: string }) => Number(row.ms))
      .sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    // Where the time goes: item -> run created in actions (poll, trigger-poller's outbox relay, actions'
    // subscription), run created -> call received (job queue, claim, call).
    const actionsDb = new pg.Client({ connectionString: engine.env.actions.DATABASE_URL });
    await actionsDb.connect();
    const runCreated = new Map<string, number>();
    try {
      const { rows } = await actionsDb.query<{ trigger_event_id: string; created_at: Date }>(
        'SELECT trigger_event_id, created_at FROM action_runs WHERE applet_id = $1',
        [latencyApplet.id],
      );
      for (const row of rows) runCreated.set(row.trigger_event_id, row.created_at.getTime());
    } finally {
      await actionsDb.end();
    }
    const stages = (
      await recordsOf(
        `SELECT 'item-' || i.id AS event_id, extract(epoch FROM i.created_at) * 1000 AS item_ms,
           extract(epoch FROM r.received_at) * 1000 AS call_ms
         FROM action_records r JOIN items i ON i.list = 'inbox' AND r.request->'actionFields'->>'message' = 'inbox:' || i.title
         WHERE r.request->'ifttt_source'->>'id' = $1`,
        [latencyApplet.id],
      )
    ).flatMap((row: { event_id: string; item_ms: string; call_ms: string }) => {
      const created = runCreated.get(row.event_id);
      return created === undefined
        ? []
        : [{ toRun: created - Number(row.item_ms), toCall: Number(row.call_ms) - created }];
    });
    const toRun = stages.map((stage) => stage.toRun).sort((a, b) => a - b);
    const toCall = stages.map((stage) => stage.toCall).sort((a, b) => a - b);
    log(
      `  item -> run created: p50 ${percentile(toRun, 50).toFixed(0)} ms, p99 ${percentile(toRun, 99).toFixed(0)} ms; ` +
        `run created -> call: p50 ${percentile(toCall, 50).toFixed(0)} ms, p99 ${percentile(toCall, 99).toFixed(0)} ms`,
    );
    log(
      `event to action at ${offered.offeredPerSecond.toFixed(0)} events/s: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (${latencies.length} runs)`,
    );

    const fan = await fanOut(engine, triggerPoller, sandbox, load);
    const fanCount = async () =>
      Number(
        (
          await recordsOf(
            `SELECT count(*) AS n FROM action_records WHERE request->'actionFields'->>'message' LIKE '%:fan-out'`,
            [],
          )
        )[0].n,
      );
    await eventually('every fan-out run', async () => (await fanCount()) >= load.length, 300_000, 500).catch(
      (error: unknown) => log(String(error)),
    );
    const [span] = await recordsOf(
      `SELECT count(*) AS n, extract(epoch FROM (max(received_at) - $1::timestamptz)) AS seconds FROM action_records
       WHERE request->'actionFields'->>'message' LIKE '%:fan-out'`,
      [fan.started],
    );
    const runsPerSecond = Number(span.n) / Number(span.seconds);
    log(`action runs: ${span.n} in ${Number(span.seconds).toFixed(1)} s = ${runsPerSecond.toFixed(0)}/s`);

    // Exactly once: the pairs that must have fired, against what the sandbox recorded.
    const expected = new Map<string, number>();
    for (const title of offered.titles) expected.set(`${latencyApplet.id}|inbox:${title}`, 0);
    for (const applet of load) expected.set(`${applet.id}|${applet.list}:fan-out`, 0);
    const recorded = await recordsOf(
      `SELECT request->'ifttt_source'->>'id' AS applet, request->'actionFields'->>'message' AS message, count(*) AS n
       FROM action_records GROUP BY 1, 2`,
      [],
    );
    let duplicated = 0;
    let unexpected = 0;
    for (const row of recorded as { applet: string; message: string; n: string }[]) {
      const pair = `${row.applet}|${row.message}`;
      if (!expected.has(pair)) unexpected += Number(row.n);
      else {
        expected.set(pair, Number(row.n));
        duplicated += Number(row.n) - 1;
      }
    }
    const lost = [...expected.values()].filter((count) => count === 0).length;
    const failedRuns = await metricSum(engine.metricsUrl('actions-worker'), 'action_runs_finished_total', [
      'status="failed"',
    ]);
    errors += failedRuns;
    log(
      `exactly once: ${expected.size} expected runs, ${lost} lost, ${duplicated} doubled, ${unexpected} unexpected`,
    );

    clearInterval(loadTimer);
    const load1 = {
      min: Math.min(...loads),
      max: Math.max(...loads),
      mean: loads.reduce((sum, value) => sum + value, 0) / loads.length,
    };
    log(
      `load average (1 min) during the run: ${load1.min.toFixed(2)}-${load1.max.toFixed(2)}, mean ${load1.mean.toFixed(2)}`,
    );
    const round = (value: number, digits = 0) => Number(value.toFixed(digits));
    process.stdout.write(
      `${JSON.stringify({
        applets: all.length,
        trigger_checks_per_s: round(checks.perSecond),
        notification_entries_per_s: round(notes.entriesPerSecond),
        notification_100_req_per_s: round(notes.hundred.reqPerSecond),
        single_entry_req_per_s: round(notes.single.reqPerSecond),
        bare_express_req_per_s: round(notes.bare.reqPerSecond),
        single_entry_vs_bare_ratio: round(ratio, 2),
        action_runs_per_s: round(runsPerSecond),
        events_per_s_offered: round(offered.offeredPerSecond),
        event_to_action_p50_ms: round(p50),
        event_to_action_p99_ms: round(p99),
        errors,
        lost,
        duplicated: duplicated + unexpected,
        load_avg_1m_mean: round(load1.mean, 2),
        load_avg_1m_max: round(load1.max, 2),
      })}\n`,
    );
    if (lost > 0 || duplicated + unexpected > 0) process.exitCode = 1;
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    clearInterval(loadTimer);
    await sandboxDb.end().catch(() => undefined);
    if (failed) log(`the processes' output is kept in ${engine.logDir}`);
    await engine.stop({ keepLogs: failed });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
