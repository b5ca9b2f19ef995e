import type { Redis } from 'ioredis';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Component } from '../lifecycle/component';
import { DEFAULT_EVENTS_PREFIX, eventKeys } from './event-keys';
import { type EventMetrics, eventMetrics } from './event-metrics';

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  redis: Redis;
  /** Redis key prefix; default {@link DEFAULT_EVENTS_PREFIX}. Publishers' relay and subscribers must agree. */
  prefix?: string;
  /** Approximate number of entries each topic stream keeps (`XADD MAXLEN ~`); default 100,000. */
  retention?: number;
  /** Rows relayed per pass; default 500. */
  batchSize?: number;
  /** Pause between passes when the outbox had nothing to relay, ms; default 200. */
  pollIntervalMs?: number;
  /** How long relayed rows stay in the outbox (for audit and re-relaying by hand), ms; default 1 day. */
  keepRelayedMs?: number;
  registry?: Registry;
  logger?: Logger;
}

/** The advisory lock key (of `hashtextextended`) only one relay at a time holds. */
const RELAY_LOCK = 'ittd:events:relay';

interface OutboxRow {
  id: string;
  event_id: string;
  topic: string;
  payload: string;
  request_id: string | null;
  published_at: Date;
}

/**
 * Moves committed outbox rows to one Redis stream per topic (`XADD <prefix>{topic} MAXLEN ~ retention`),
 * in the order their transactions began writing (= commit order for one producer), and marks them relayed.
 * Safe with any number of replicas: a pass runs in a Postgres transaction holding a transaction-level
 * advisory lock (`pg_try_advisory_xact_lock`), so one replica relays at a time and the others skip the
 * pass. A row is only taken once every transaction of this database that started writing before it has
 * ended (below the oldest one `pg_stat_activity` shows running here), so no row that sorts before it can
 * still commit; a transaction in another database of the server does not hold it back.
 * A crash between `XADD` and the mark relays the row again with the same event id.
 *
 * A lifecycle component: `start()` begins passes, `stop()` finishes the running pass.
 *
 * @example
 * const relay = new OutboxRelay({ db: database.db, redis, registry: metrics, logger });
 * lifecycle.register(relay);
 * health.add(relayLagCheck(database.db, { warnAboveMs: 30_000 }));
 */
export class OutboxRelay implements Component {
  readonly name = 'events-relay';
  private readonly prefix: string;
  private readonly retention: number;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly keepRelayedMs: number;
  private readonly metrics: EventMetrics | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.prefix = options.prefix ?? DEFAULT_EVENTS_PREFIX;
    this.retention = options.retention ?? 100_000;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.keepRelayedMs = options.keepRelayedMs ?? 86_400_000;
    if (options.registry) {
      this.metrics = eventMetrics(options.registry);
      const db = options.db;
      // One gauge per registry: the outbox is one per database, whichever relay reads it.
      if (!options.registry.getSingleMetric('events_relay_lag_seconds'))
        new Gauge({
          name: 'events_relay_lag_seconds',
          help: 'age of the oldest outbox event not yet relayed (0 when none), read at scrape time',
          registers: [options.registry],
          async collect() {
            this.set(
              await relayLagMs(db)
                .then((ms) => ms / 1000)
                .catch(() => Number.NaN),
            );
          },
        });
    }
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /**
   * Relays one batch; resolves the number of rows relayed (0 when another replica holds the lock or nothing
   * is ready). The loop calls it; tests and scripts may too.
   */
  async relayOnce(): Promise<number> {
    return this.options.db.transaction().execute(async (trx) => {
      const lock = await sql<{ locked: boolean }>`
        select pg_try_advisory_xact_lock(hashtextextended(${RELAY_LOCK}, 0)) as locked`.execute(trx);
      if (!lock.rows[0]?.locked) return 0;
      // The horizon: rows of transactions below it are settled (committed and visible, or rolled back).
      // It is the oldest transaction still running IN THIS DATABASE (only they can write this outbox),
      // not the snapshot's xmin, which is server-wide: a long transaction in another database of the same
      // server would otherwise hold every relay back. A running transaction is ours when pg_stat_activity
      // shows its xid on a backend of this database; one that ended between the snapshot and that read
      // (pg_xact_status no longer 'in progress') counts as ours too, to be safe: its rows may be invisible
      // to this statement's snapshot. This statement is the relay transaction's first read of
      // pg_stat_activity, which Postgres then keeps for the transaction, so the read follows the snapshot.
      const { rows } = await sql<OutboxRow>`
        with snap as (select pg_current_snapshot() as s),
        running_here as (
          select x from snap, pg_snapshot_xip(snap.s) as x
          where pg_xact_status(x) <> 'in progress'
             or exists (
               select 1 from pg_stat_activity a
               where a.datname = current_database() and a.backend_xid is not null
                 and a.backend_xid::text::bigint = (x::text::numeric % 4294967296)::bigint)
        )
        select id::text, event_id::text, topic, payload::text, request_id, published_at
        from platform_event_outbox
        where relayed_at is null
          and tx_id < coalesce((select min(x) from running_here), (select pg_snapshot_xmax(s) from snap))
        order by tx_id, id
        limit ${this.batchSize}`.execute(trx);
      if (rows.length > 0) {
        const pipeline = this.options.redis.pipeline();
        for (const row of rows)
          pipeline.xadd(
            eventKeys(this.prefix, row.topic).stream,
            'MAXLEN',
            '~',
            this.retention,
            '*',
            'id',
            row.event_id,
            'topic',
            row.topic,
            'data',
            row.payload,
            'published',
            row.published_at.toISOString(),
            ...(row.request_id === null ? [] : ['request', row.request_id]),
          );
        const results = (await pipeline.exec()) ?? [];
        // Stop at the first failed XADD: later rows of its topic must not overtake it.
        const added: { id: string; streamId: string }[] = [];
        for (const [index, [error, streamId]] of results.entries()) {
          if (error) {
            this.options.logger?.warn({ err: error, eventId: rows[index]?.event_id }, 'event relay failed');
            break;
          }
          added.push({ id: (rows[index] as OutboxRow).id, streamId: String(streamId) });
        }
        if (added.length > 0)
          await sql`
            update platform_event_outbox o set relayed_at = now(), stream_id = r.stream_id
            from unnest(${added.map((a) => a.id)}::bigint[], ${added.map((a) => a.streamId)}::text[]) as r(id, stream_id)
            where o.id = r.id`.execute(trx);
        for (const row of rows.slice(0, added.length)) this.metrics?.relayed.inc({ topic: row.topic });
        if (added.length < rows.length) throw new Error('redis refused an XADD; the pass is retried');
      }
      await sql`
        delete from platform_event_outbox where id in (
          select id from platform_event_outbox
          where relayed_at < now() - make_interval(secs => ${this.keepRelayedMs / 1000})
          limit ${this.batchSize})`.execute(trx);
      return rows.length;
    });
  }

  /**
   * Marks rows relayed at or after `since` as not relayed, so the relay puts them on their streams again
   * (same event ids, in their original order). For after a Redis loss: rows stay in the outbox for
   * `keepRelayedMs` after relaying. Resolves how many rows will be relayed again.
   *
   * @example
   * await relay.relayAgain(new Date(Date.now() - 3_600_000)); // Redis lost the last hour
   */
  async relayAgain(since: Date): Promise<number> {
    const result = await sql`
      update platform_event_outbox set relayed_at = null, stream_id = null
      where relayed_at >= ${since}`.execute(this.options.db);
    return Number(result.numAffectedRows ?? 0);
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let relayed = 0;
      try {
        relayed = await this.relayOnce();
        failures = 0;
      } catch (error) {
        failures++;
        this.options.logger?.warn({ err: error }, 'event relay pass failed; retrying');
      }
      if (this.stopping) break;
      // A full batch: go on at once. Otherwise wait, longer after failures (capped at 5 s).
      if (relayed >= this.batchSize) continue;
      const delay = failures ? Math.min(5000, this.pollIntervalMs * 2 ** failures) : this.pollIntervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/**
 * Age of the oldest outbox row not yet relayed, ms (0 when none). Rows of transactions still open are not
 * visible, so they do not count.
 *
 * @example
 * await relayLagMs(db); // 1200
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function relayLagMs(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ lag: number | null }>`
    select (extract(epoch from now() - min(published_at)) * 1000)::float8 as lag
    from platform_event_outbox where relayed_at is null`.execute(db);
  return Math.max(0, Number(rows[0]?.lag ?? 0));
}
