import { randomUUID } from 'node:crypto';
import { OutboxRelay, publish, runEventsMigrations } from '@ittd/platform';
import { createTestDatabase, testRedisUrl } from '@ittd/platform/testing';
import { actionRunFinished, type ActionRunFinishedEvent } from '@ittd/engine-events';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

/**
 * Stands in for the actions service's side of `action-run.finished`: its own database with the platform's
 * outbox, the real `publish` and a real `OutboxRelay` on the applets service's EVENTS_PREFIX. (Not a test
 * double of the transport: the events go through Postgres, the relay and Redis Streams as in production.)
 */
export interface ActionRunPublisher {
  /** Publishes one finished run (defaults filled in) in its own transaction; resolves the event. */
  publishRun(run: Partial<ActionRunFinishedEvent> & { applet_id: string }): Promise<ActionRunFinishedEvent>;
  /** Puts every already relayed row on its stream again (same event ids): a redelivery of each. */
  relayAgain(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens a publisher on a fresh database whose relay writes under `eventsPrefix`.
 *
 * @example
 *   const actions = await startActionRunPublisher(service.eventsPrefix);
 *   await actions.publishRun({ applet_id: '7', status: 'failed', message: 'HTTP 401' });
 */
export async function startActionRunPublisher(eventsPrefix: string): Promise<ActionRunPublisher> {
  const database = await createTestDatabase('applets_actions');
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 3 }) }),
  });
  await runEventsMigrations(db);
  const redis = new Redis(testRedisUrl());
  const relay = new OutboxRelay({ db, redis, prefix: eventsPrefix, pollIntervalMs: 20 });
  await relay.start();
  let clock = Date.parse('2026-11-30T09:00:00.000Z');
  return {
    async publishRun(run) {
      clock += 1000;
      const event: ActionRunFinishedEvent = {
        run_id: randomUUID(),
        user_id: '1',
        trigger_identity: 'identity',
        trigger_event_id: `evt_${clock}`,
        action: { service: 'slack', slug: 'post_message' },
        status: 'success',
        partner_record_id: null,
        message: null,
        attempts: 1,
        duration_ms: 84,
        started_at: new Date(clock - 84).toISOString(),
        finished_at: new Date(clock).toISOString(),
        ...run,
      };
      await db
        .transaction()
        .execute((trx) => publish(trx, actionRunFinished, event, { requestId: `req-${event.run_id}` }));
      return event;
    },
    relayAgain: () => relay.relayAgain(new Date(0)),
    async close() {
      await relay.stop();
      redis.disconnect();
      await db.destroy();
      await database.drop();
    },
  };
}
