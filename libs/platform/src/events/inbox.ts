import { type Kysely, sql, type Transaction } from 'kysely';

/** What {@link withInbox} did: ran the work (`processed: true`, its result) or found the event done. */
export type InboxOutcome<R> = { processed: true; result: R } | { processed: false };

/**
 * Runs a handler's Postgres work at most once per (subscription, event id): in one transaction it inserts
 * the pair into `platform_event_inbox` and runs `work`; if the pair is there already (an earlier delivery
 * committed), `work` does not run. A concurrent duplicate waits on the primary key until the first commits,
 * then finds it. If `work` throws, nothing is recorded and the next delivery runs it again.
 *
 * @example
 * subscribe(appletSaved, 'actions', async (event, { eventId }) => {
 *   await withInbox(db, 'actions', eventId, (trx) => trx.insertInto('applets').values(toRow(event)).execute());
 * }, { redis });
 */
export async function withInbox<DB, R>(
  db: Kysely<DB>,
  subscription: string,
  eventId: string,
  work: (trx: Transaction<DB>) => Promise<R>,
): Promise<InboxOutcome<R>> {
  return db.transaction().execute(async (trx) => {
    const inserted = await sql`
      insert into platform_event_inbox (subscription, event_id) values (${subscription}, ${eventId})
      on conflict do nothing`.execute(trx);
    if (Number(inserted.numAffectedRows ?? 0) === 0) return { processed: false } as const;
    return { processed: true, result: await work(trx) } as const;
  });
}

/**
 * Deletes inbox rows processed more than `olderThanMs` ago (redeliveries come within the stream's retention,
 * so a few days is plenty); resolves how many. Run it from a schedule.
 *
 * @example
 * await purgeInbox(db, 7 * 86_400_000);
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function purgeInbox(db: Kysely<any>, olderThanMs: number): Promise<number> {
  const result = await sql`
    delete from platform_event_inbox where processed_at < now() - make_interval(secs => ${olderThanMs / 1000})`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0);
}
