import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { type Logger, pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { DeadLetters } from './dead-letters';
import { eventKeys } from './event-keys';
import { runEventsCli } from './events-cli';
import { withInbox } from './inbox';
import { OutboxRelay } from './outbox-relay';
import { publish } from './publish';
import { relayLagCheck } from './relay-lag-check';
import { type EventContext, subscribe, type Subscription } from './subscription';
import { EventPayloadError } from './topic';
import {
  openEventsTestEnv,
  orderPlaced,
  relayUntil,
  waitFor,
  type EventsTestEnv,
} from './testing/events-test-support';
import { testRedisUrl } from '../testing/test-redis';
import { createTestDatabase } from '../testing/test-database';

let t: EventsTestEnv;
const started: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  t = await openEventsTestEnv('events');
});
afterEach(async () => {
  for (const component of started.splice(0).reverse()) await component.stop();
  await sql`truncate platform_event_outbox, platform_event_inbox`.execute(t.db);
  await t.clearRedis();
});
afterAll(() => t.close());

type Order = { n: number; note?: string };
interface Seen {
  event: Order;
  context: EventContext;
}

async function startRelay(db = t.db, registry?: Registry, batchSize?: number): Promise<OutboxRelay> {
  const relay = new OutboxRelay({
    db,
    redis: t.redis,
    prefix: t.prefix,
    pollIntervalMs: 20,
    registry,
    batchSize,
  });
  await relay.start();
  started.push(relay);
  return relay;
}

async function startSubscription(
  name: string,
  handler: (event: Order, context: EventContext) => Promise<void>,
  options: {
    maxDeliveries?: number;
    leaseMs?: number;
    backoffBaseMs?: number;
    registry?: Registry;
    logger?: Logger;
  } = {},
): Promise<Subscription<Order>> {
  const subscription = subscribe(orderPlaced, name, handler, {
    redis: t.redis,
    prefix: t.prefix,
    blockMs: 100,
    ...options,
  });
  await subscription.start();
  started.push(subscription);
  return subscription;
}

function collect(into: Seen[]) {
  return async (event: Order, context: EventContext): Promise<void> => {
    into.push({ event, context });
  };
}

async function publishOne(n: number, db = t.db): Promise<string> {
  return db.transaction().execute((trx) => publish(trx, orderPlaced, { n }));
}

describe('publish', () => {
  it('refuses an event that fails the schema or the JSON rule, inserting nothing', async () => {
    const bad = [{ n: 1.5 }, { n: 1, note: 'a\ud800b' }, { n: 1, note: 'nul\u0000' }];
    for (const event of bad) {
      const error = await t.db
        .transaction()
        .execute((trx) => publish(trx, orderPlaced, event))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventPayloadError);
    }
    const badRequestId = await t.db
      .transaction()
      .execute((trx) => publish(trx, orderPlaced, { n: 1 }, { requestId: 'r\u0000' }))
      .catch((e: unknown) => e);
    expect(badRequestId).toBeInstanceOf(EventPayloadError);
    expect((badRequestId as Error).message).toContain('requestId');
    const { rows } = await sql<{ count: string }>`select count(*) from platform_event_outbox`.execute(t.db);
    expect(rows[0]?.count).toBe('0');
  });

  it('an event published in a rolled-back transaction is never delivered', async () => {
    const seen: Seen[] = [];
    await startSubscription('rollback', collect(seen));
    await startRelay();
    let rolledBack = '';
    await t.db
      .transaction()
      .execute(async (trx) => {
        rolledBack = await publish(trx, orderPlaced, { n: 1 });
        throw new Error('business change failed');
      })
      .catch(() => undefined);
    const committed = await publishOne(2);
    await waitFor('the committed event', () => seen.some((s) => s.context.eventId === committed));
    expect(rolledBack).not.toBe('');
    expect(seen.map((s) => s.event.n)).toEqual([2]);
    expect(await t.redis.xlen(eventKeys(t.prefix, orderPlaced.name).stream)).toBe(1);
  });
});

describe('relay', () => {
  it('does not relay past a transaction still open, then relays in transaction order', async () => {
    const relay = new OutboxRelay({ db: t.db, redis: t.redis, prefix: t.prefix });
    const other = t.openDb();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = '';
    // The first transaction writes its event and stays open; a later one publishes and commits.
    const open = other.transaction().execute(async (trx) => {
      first = await publish(trx, orderPlaced, { n: 1 });
      await held;
    });
    await waitFor('the first event written', () => first !== '');
    const second = await publishOne(2);
    expect(await relay.relayOnce()).toBe(0);
    release();
    await open;
    expect(await relayUntil(relay, 2)).toBe(2);
    const entries = await t.redis.xrange(eventKeys(t.prefix, orderPlaced.name).stream, '-', '+');
    expect(entries.map(([, fields]) => fields[1])).toEqual([first, second]);
  });

  it('a transaction still open in another database of the server does not hold the relay back', async () => {
    const relay = new OutboxRelay({ db: t.db, redis: t.redis, prefix: t.prefix });
    const elsewhere = await createTestDatabase('events_elsewhere');
    const other = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: elsewhere.url, max: 1 }) }),
    });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let wrote = false;
    // A writing transaction (it has a transaction id, older than the event's) stays open elsewhere.
    const open = other.transaction().execute(async (trx) => {
      await sql`create table busy (n int)`.execute(trx);
      wrote = true;
      await held;
    });
    try {
      await waitFor('the other transaction to write', () => wrote);
      const eventId = await publishOne(7);
      expect(await relayUntil(relay, 1, 5000)).toBe(1);
      const entries = await t.redis.xrange(eventKeys(t.prefix, orderPlaced.name).stream, '-', '+');
      expect(entries.map(([, fields]) => fields[1])).toEqual([eventId]);
    } finally {
      release();
      await open;
      await other.destroy();
      await elsewhere.drop();
    }
  });

  it('two relay replicas put each row on the stream once, and order holds for one producer', async () => {
    const key = eventKeys(t.prefix, orderPlaced.name).stream;
    const seen: Seen[] = [];
    await startSubscription('order', collect(seen));
    const total = 150;
    for (let n = 0; n < total; n++) await publishOne(n);
    // Both replicas find the whole backlog at once and race for it in small batches.
    await Promise.all([startRelay(t.openDb(), undefined, 10), startRelay(t.openDb(), undefined, 10)]);
    await waitFor('every event delivered', () => seen.length >= total);
    const entries = await t.redis.xrange(key, '-', '+');
    const ids = entries.map(([, fields]) => fields[1]);
    expect(new Set(ids).size).toBe(total);
    expect(ids.length).toBe(total);
    expect(seen.map((s) => s.event.n)).toEqual(Array.from({ length: total }, (_, n) => n));
  });

  it('after Redis lost a stream, relayAgain puts the kept rows back and the subscription recreates its group', async () => {
    const seen: Seen[] = [];
    await startSubscription('loss', collect(seen));
    const relay = await startRelay();
    const since = new Date(Date.now() - 1000);
    const ids = [await publishOne(1), await publishOne(2)];
    await waitFor('both events', () => seen.length === 2);
    // A subscriber can see an event before the relay's transaction marking it relayed commits (XADD first).
    await waitFor('both rows marked relayed', async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from platform_event_outbox where relayed_at is not null`.execute(t.db);
      return rows[0].n === 2;
    });
    // What a Redis restart without persistence does to this topic: the stream and its groups are gone.
    await t.redis.del(eventKeys(t.prefix, orderPlaced.name).stream);
    expect(await relay.relayAgain(since)).toBe(2);
    await waitFor('both events again', () => seen.length === 4);
    expect(seen.map((s) => s.context.eventId)).toEqual([...ids, ...ids]);
  });

  it('a row whose mark failed after its XADD is relayed again with the same event id', async () => {
    // A real failure between XADD and the mark: Postgres refuses the first mark (a trigger), as a crash would
    // lose it. A sequence counts the calls: nextval is not undone by the failed transaction.
    await sql`create sequence mark_calls`.execute(t.db);
    await sql`
      create function fail_mark() returns trigger language plpgsql as $$
      begin
        if nextval('mark_calls') = 1 then raise exception 'mark lost'; end if;
        return new;
      end $$`.execute(t.db);
    await sql`create trigger fail_mark before update on platform_event_outbox for each row execute function fail_mark()`.execute(
      t.db,
    );
    try {
      const relay = new OutboxRelay({ db: t.db, redis: t.redis, prefix: t.prefix });
      const eventId = await publishOne(1);
      // The first pass that sees the row fails at its mark (relayUntil passes the error on).
      await expect(relayUntil(relay, 1)).rejects.toThrow('mark lost');
      expect(await relayUntil(relay, 1)).toBe(1);
      const entries = await t.redis.xrange(eventKeys(t.prefix, orderPlaced.name).stream, '-', '+');
      expect(entries.map(([, fields]) => fields[1])).toEqual([eventId, eventId]);
    } finally {
      await sql`drop trigger fail_mark on platform_event_outbox`.execute(t.db);
      await sql`drop function fail_mark`.execute(t.db);
      await sql`drop sequence mark_calls`.execute(t.db);
    }
  });

  it('reports its lag as a warn once the oldest unrelayed event is older than the threshold', async () => {
    await publishOne(1);
    await sql`update platform_event_outbox set published_at = now() - interval '2 minutes'`.execute(t.db);
    const outcome = await relayLagCheck(t.db, { warnAboveMs: 60_000 }).run();
    expect(outcome).toMatchObject({ status: 'warn', observedUnit: 'ms' });
    const relay = new OutboxRelay({ db: t.db, redis: t.redis, prefix: t.prefix });
    expect(await relayUntil(relay, 1)).toBe(1);
    expect(await relayLagCheck(t.db, { warnAboveMs: 60_000 }).run()).toMatchObject({
      status: 'pass',
      observedValue: 0,
    });
  });
});

describe('subscriptions', () => {
  it('two subscriptions each get every event', async () => {
    const a: Seen[] = [];
    const b: Seen[] = [];
    await startSubscription('sub-a', collect(a));
    await startSubscription('sub-b', collect(b));
    await startRelay();
    const ids = [];
    for (let n = 0; n < 20; n++) ids.push(await publishOne(n));
    await waitFor('both subscriptions', () => a.length >= 20 && b.length >= 20);
    expect(a.map((s) => s.context.eventId)).toEqual(ids);
    expect(b.map((s) => s.context.eventId)).toEqual(ids);
    for (const component of started.splice(0).reverse()) await component.stop();
    // Stopped consumers that held nothing leave their groups.
    const stream = eventKeys(t.prefix, orderPlaced.name).stream;
    expect(await t.redis.xinfo('CONSUMERS', stream, 'sub-a')).toEqual([]);
  });

  it('with two consumers, a handler running past the lease keeps its event and the batch behind it', async () => {
    const seen: Seen[] = [];
    // Each handler runs past the 1,000 ms lease, and the events read in the same batch wait 1-3 leases. The
    // lease is renewed every third of it, so a renewal may come up to ~600 ms late (a loaded CI machine)
    // before the other consumer could take an event over.
    const slow = async (event: Order, context: EventContext): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      seen.push({ event, context });
    };
    await startSubscription('shared', slow, { leaseMs: 1000 });
    await startSubscription('shared', slow, { leaseMs: 1000 });
    await startRelay();
    for (let n = 0; n < 4; n++) await publishOne(n);
    await waitFor('every event', () => seen.length >= 4);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // room for a wrong second delivery
    expect(seen.map((s) => s.event.n).sort()).toEqual([0, 1, 2, 3]);
    expect(seen.every((s) => s.context.deliveryCount === 1)).toBe(true);
  });

  it('a handler that always fails ends in the dead letters after N deliveries; retry delivers it again', async () => {
    const registry = new Registry();
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const attempts: number[] = [];
    let healthy = false;
    const seen: Seen[] = [];
    await startSubscription(
      'failing',
      async (event, context) => {
        if (!healthy) {
          attempts.push(context.deliveryCount);
          throw new Error('partner down');
        }
        seen.push({ event, context });
      },
      { maxDeliveries: 3, leaseMs: 400, backoffBaseMs: 50, registry, logger },
    );
    await startRelay();
    const eventId = await t.db
      .transaction()
      .execute((trx) => publish(trx, orderPlaced, { n: 7 }, { requestId: 'req-failing-7' }));
    const dead = new DeadLetters(t.redis, orderPlaced.name, 'failing', t.prefix);
    await waitFor('the dead letter', async () => (await dead.count()) === 1);
    expect(attempts).toEqual([1, 2, 3]);
    // Every line about the event names it and the request that caused it (X-Request-ID follows a firing).
    const aboutIt = logs.filter((line) => line.eventId === eventId);
    expect(aboutIt.map((line) => line.msg)).toEqual([
      'event handler failed',
      'event handler failed',
      'event dead-lettered',
    ]);
    expect(aboutIt.every((line) => line.reqId === 'req-failing-7')).toBe(true);
    const [letter] = await dead.list();
    expect(letter).toMatchObject({ eventId, deliveries: 3, error: 'partner down', data: { n: 7 } });
    expect((await registry.getSingleMetric('events_dead_total')?.get())?.values[0]?.value).toBe(1);

    healthy = true;
    const out: string[] = [];
    const env = { REDIS_URL: testRedisUrl(), EVENTS_PREFIX: t.prefix };
    const args = ['events', 'dead', 'retry', '--all', '-t', orderPlaced.name, '-s', 'failing'];
    expect(await runEventsCli(args, { env, out: (text) => out.push(text) })).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ retried: 1 });
    await waitFor('the retried event', () => seen.length === 1);
    expect(seen[0]?.context).toMatchObject({ eventId, deliveryCount: 1 });
    expect(await dead.count()).toBe(0);
  });

  it('the dead letters CLI lists and purges, and refuses a bad command line with 64', async () => {
    const dead = new DeadLetters(t.redis, orderPlaced.name, 'cli', t.prefix);
    const key = eventKeys(t.prefix, orderPlaced.name).dead('cli');
    const id = await t.redis.xadd(
      key,
      '*',
      'id',
      'e1',
      'data',
      '{"n":1}',
      'deliveries',
      '3',
      'error',
      'x',
      'dead_at',
      'now',
    );
    const env = { REDIS_URL: testRedisUrl(), EVENTS_PREFIX: t.prefix };
    const out: string[] = [];
    const run = (...args: string[]) =>
      runEventsCli(['events', 'dead', ...args, '-t', orderPlaced.name, '-s', 'cli'], {
        env,
        out: (text) => out.push(text),
        err: () => undefined,
      });
    expect(await run('list')).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject([{ id, eventId: 'e1', deliveries: 3 }]);
    expect(await run('purge')).toBe(64);
    expect(await run('purge', 'not-an-id')).toBe(64);
    expect(await run('purge', id as string)).toBe(0);
    expect(await dead.count()).toBe(0);
  });

  it('the inbox makes a redelivered event a no-op', async () => {
    await sql`create table if not exists orders (n int primary key, times int not null)`.execute(t.db);
    let crashes = 1;
    const outcomes: boolean[] = [];
    await startSubscription(
      'inbox',
      async (event, { eventId }) => {
        const outcome = await withInbox(t.db, 'inbox', eventId, (trx) =>
          sql`insert into orders values (${event.n}, 1) on conflict (n) do update set times = orders.times + 1`.execute(
            trx,
          ),
        );
        outcomes.push(outcome.processed);
        // Committed, then "crashed" before the acknowledgement: the event comes again.
        if (crashes-- > 0) throw new Error('lost before XACK');
      },
      { leaseMs: 300, backoffBaseMs: 20 },
    );
    await startRelay();
    await publishOne(42);
    await waitFor('the redelivery', () => outcomes.length === 2);
    expect(outcomes).toEqual([true, false]);
    const { rows } = await sql<{ times: number }>`select times from orders where n = 42`.execute(t.db);
    expect(rows).toEqual([{ times: 1 }]);
  });
});
