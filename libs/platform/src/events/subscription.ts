import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Component } from '../lifecycle/component';
import { DEFAULT_EVENTS_PREFIX, eventKeys } from './event-keys';
import { type EventMetrics, eventMetrics } from './event-metrics';
import { parseEvent, type Topic } from './topic';

/** Subscription names: as topic names, 1 to 100 characters of `[a-z0-9._-]`. */
export const SUBSCRIPTION_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** What a handler gets besides the event. */
export interface EventContext {
  /** The event id from `publish` (a UUID): the same on every delivery, the key for idempotency. */
  eventId: string;
  topic: string;
  subscription: string;
  /** 1 on the first delivery to this subscription, counting redeliveries after failures and crashes. */
  deliveryCount: number;
  publishedAt: Date;
  /** The `X-Request-ID` given to `publish`, if any. */
  requestId: string | undefined;
  /** Aborted when `stop()` gives up waiting for the handler. */
  signal: AbortSignal;
}

/** Handles one event; throwing means "not done": it is delivered again after a backoff. */
export type EventHandler<T> = (event: T, context: EventContext) => Promise<void>;

/** Options of {@link subscribe}. */
export interface SubscriptionOptions {
  redis: Redis;
  /** Redis key prefix; default {@link DEFAULT_EVENTS_PREFIX}. */
  prefix?: string;
  /** Deliveries before an event goes to the dead letters; default 10. */
  maxDeliveries?: number;
  /**
   * A delivery not acknowledged nor renewed for this long is taken over by another consumer (its consumer
   * died), ms; default 30,000. The handler's lease is renewed every third of it while it runs.
   */
  leaseMs?: number;
  /** First retry delay, ms, doubling per delivery and capped at `leaseMs`; default 1000. */
  backoffBaseMs?: number;
  /** Where a new subscription starts: every event still in the stream (default) or only new ones. */
  startFrom?: 'oldest' | 'latest';
  /** Longest a read blocks waiting for events, ms; default 1000 (also bounds how fast `stop()` returns). */
  blockMs?: number;
  /** How long `stop()` waits for a running handler before aborting its signal, ms; default 10,000. */
  shutdownTimeoutMs?: number;
  registry?: Registry;
  logger?: Logger;
}

/** One stream message as ioredis returns it. */
type StreamEntry = [id: string, fields: string[]];

function fieldsOf(entry: StreamEntry): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < entry[1].length; i += 2) fields[entry[1][i] as string] = entry[1][i + 1] as string;
  return fields;
}

/**
 * The retry delay after the n-th failed delivery, ms: `baseMs * 2^(n-1)`, capped at `capMs` (the lease, since
 * a retry is due when XAUTOCLAIM with min idle = lease finds it).
 *
 * @example
 * deliveryBackoffMs(1, 1000, 30_000); // 1000
 * deliveryBackoffMs(6, 1000, 30_000); // 30000 (32000 capped)
 */
export function deliveryBackoffMs(deliveryCount: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * A subscription (Encore's `Subscription`, a Kafka consumer group): every subscription of a topic gets every
 * event, and the replicas of one subscription share them. The consumer group `name` on the topic's stream
 * (created on `start()`) and on the subscription's own retry stream; each process is one consumer.
 *
 * - `XREADGROUP` reads new events; the handler runs one event at a time (order kept within a consumer);
 *   `XACK` only after it resolved. While it runs its lease is renewed (`XCLAIM ... JUSTID`).
 * - A handler that throws leaves the event pending with its idle time set so that it is due again after
 *   {@link deliveryBackoffMs}; `XAUTOCLAIM` (min idle = `leaseMs`) takes over due retries and events whose
 *   consumer died.
 * - After `maxDeliveries` deliveries (or at once if the event no longer fits the topic's schema) the event
 *   moves to the subscription's dead letters ({@link DeadLetters}), in one `MULTI` with its `XACK`.
 *
 * @example
 * const sub = subscribe(appletSaved, 'trigger-poller', async (event, { eventId }) => {
 *   await withInbox(db, 'trigger-poller', eventId, (trx) => upsertSubscription(trx, event));
 * }, { redis, registry: metrics, logger });
 * lifecycle.register(sub);
 */
export function subscribe<T>(
  topic: Topic<T>,
  name: string,
  handler: EventHandler<T>,
  options: SubscriptionOptions,
): Subscription<T> {
  return new Subscription(topic, name, handler, options);
}

/** See {@link subscribe}. A lifecycle component. */
export class Subscription<T> implements Component {
  readonly name: string;
  /** This process's consumer name in the group. */
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly prefix: string;
  private readonly maxDeliveries: number;
  private readonly leaseMs: number;
  private readonly backoffBaseMs: number;
  private readonly blockMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly metrics: EventMetrics | undefined;
  private readonly streams: [string, string];
  private readonly deadKey: string;
  private reader: Redis | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private abort = new AbortController();
  private lastClaimAt = 0;
  /** Where the next XAUTOCLAIM of each stream resumes its scan of the pending entries. */
  private readonly claimCursor = new Map<string, string>();
  /** Entries this consumer holds (read or claimed, not yet acknowledged, rescheduled or released). */
  private readonly held = new Map<string, Set<string>>();
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly topic: Topic<T>,
    readonly subscription: string,
    private readonly handler: EventHandler<T>,
    private readonly options: SubscriptionOptions,
  ) {
    if (!SUBSCRIPTION_NAME_PATTERN.test(subscription))
      throw new Error(
        `subscription name ${JSON.stringify(subscription)} must match ${SUBSCRIPTION_NAME_PATTERN.source}`,
      );
    this.name = `subscription:${topic.name}:${subscription}`;
    this.prefix = options.prefix ?? DEFAULT_EVENTS_PREFIX;
    this.maxDeliveries = options.maxDeliveries ?? 10;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.blockMs = options.blockMs ?? 1000;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.metrics = options.registry ? eventMetrics(options.registry) : undefined;
    const keys = eventKeys(this.prefix, topic.name);
    this.streams = [keys.stream, keys.retry(subscription)];
    this.deadKey = keys.dead(subscription);
  }

  /** Creates the consumer groups (if missing) and starts consuming. */
  async start(): Promise<void> {
    await this.createGroups(this.options.startFrom === 'latest' ? '$' : '0');
    // Blocking reads get a connection of their own, with a command time-out above the block time.
    this.reader = this.options.redis.duplicate({ commandTimeout: this.blockMs + 5000 });
    this.stopping = false;
    this.abort = new AbortController();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.running = this.loop();
  }

  /** Stops reading, waits for the running handler (up to `shutdownTimeoutMs`), then closes its connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    const timer = setTimeout(
      () => this.abort.abort(new Error('subscription stopping')),
      this.shutdownTimeoutMs,
    );
    await this.running;
    clearTimeout(timer);
    clearInterval(this.renewTimer);
    this.running = undefined;
    await this.leaveGroups();
    this.reader?.disconnect();
    this.reader = undefined;
  }

  /**
   * Resets the idle time of every entry this consumer holds (`XCLAIM ... JUSTID`: no delivery counted), so
   * no other consumer takes over an event this one is handling or is about to handle in the same batch.
   */
  private async renew(): Promise<void> {
    for (const [stream, ids] of this.held) {
      if (ids.size === 0) continue;
      await this.options.redis
        .xclaim(stream, this.subscription, this.consumer, 0, ...ids, 'JUSTID')
        .catch((error: unknown) =>
          this.options.logger?.warn({ err: error, subscription: this.name }, 'lease renewal failed'),
        );
    }
  }

  private hold(stream: string, ids: string[]): void {
    let set = this.held.get(stream);
    if (!set) this.held.set(stream, (set = new Set()));
    for (const id of ids) set.add(id);
  }

  private letGo(stream: string, id: string): void {
    this.held.get(stream)?.delete(id);
  }

  /**
   * Removes this consumer from the groups when it holds no pending event (DELCONSUMER would drop pending
   * entries, so one that still holds some stays for XAUTOCLAIM), so stopped replicas do not pile up in
   * `XINFO CONSUMERS`. Best effort: Redis may be gone at shutdown.
   */
  private async leaveGroups(): Promise<void> {
    for (const stream of this.streams) {
      try {
        const mine = (await this.options.redis.xpending(
          stream,
          this.subscription,
          '-',
          '+',
          1,
          this.consumer,
        )) as unknown[];
        if (mine.length === 0)
          await this.options.redis.xgroup('DELCONSUMER', stream, this.subscription, this.consumer);
      } catch {
        // left for an operator (`XGROUP DELCONSUMER`); harmless
      }
    }
  }

  /** Creates the group on both streams where it is missing (BUSYGROUP: it exists, nothing to do). */
  private async createGroups(start: '$' | '0'): Promise<void> {
    for (const [index, stream] of this.streams.entries()) {
      await this.options.redis
        .xgroup('CREATE', stream, this.subscription, index === 0 ? start : '0', 'MKSTREAM')
        .catch((error: unknown) => {
          if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
        });
    }
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (Date.now() - this.lastClaimAt >= Math.min(this.leaseMs / 2, 1000)) {
          this.lastClaimAt = Date.now();
          for (const stream of this.streams) await this.claim(stream);
        }
        await this.read();
        failures = 0;
      } catch (error) {
        // What this consumer held and did not finish is left to the lease: any consumer takes it over.
        this.held.clear();
        if (this.stopping) break;
        // The stream or group is gone (Redis lost its data, or a key was deleted): make them again. The
        // new stream holds only events relayed since, so the group starts at its beginning.
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          this.options.logger?.error(
            { subscription: this.name },
            'event consumer group missing; creating it',
          );
          await this.createGroups('0').catch(() => undefined);
          continue;
        }
        failures++;
        this.options.logger?.warn(
          { err: error, subscription: this.name },
          'event subscription failed to read; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** failures)));
      }
    }
  }

  /** New events of both streams, handled in order. */
  private async read(): Promise<void> {
    const reader = this.reader as Redis;
    const reply = (await reader.xreadgroup(
      'GROUP',
      this.subscription,
      this.consumer,
      'COUNT',
      10,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      ...this.streams,
      '>',
      '>',
    )) as [string, StreamEntry[]][] | null;
    for (const [stream, entries] of reply ?? [])
      this.hold(
        stream,
        entries.map(([id]) => id),
      );
    for (const [stream, entries] of reply ?? [])
      for (const entry of entries) {
        if (this.stopping) await this.release(stream, entry[0]);
        else await this.deliver(stream, entry, 1);
      }
  }

  /** Takes over events idle past the lease: due retries and those of dead consumers. */
  private async claim(stream: string): Promise<void> {
    const redis = this.options.redis;
    const [next, entries, trimmed] = (await redis.xautoclaim(
      stream,
      this.subscription,
      this.consumer,
      this.leaseMs,
      this.claimCursor.get(stream) ?? '0',
      'COUNT',
      20,
    )) as [string, StreamEntry[], string[] | undefined];
    this.claimCursor.set(stream, next);
    this.hold(
      stream,
      entries.map(([id]) => id),
    );
    // Pending events the stream's retention already trimmed: XAUTOCLAIM dropped them from the group.
    if (trimmed?.length)
      this.options.logger?.error(
        { subscription: this.name, streamIds: trimmed },
        'pending events were trimmed from the stream before they were handled (retention too small)',
      );
    for (const entry of entries) {
      if (this.stopping) {
        await this.release(stream, entry[0]);
        continue;
      }
      const pending = (await redis.xpending(stream, this.subscription, entry[0], entry[0], 1)) as [
        string,
        string,
        number,
        number,
      ][];
      const deliveryCount = pending[0]?.[3] ?? 1;
      // The previous delivery of a claimed event failed (its handler threw, or its consumer died).
      if (deliveryCount > this.maxDeliveries) {
        this.metrics?.failed.inc(this.labels());
        await this.bury(
          stream,
          entry,
          deliveryCount - 1,
          'delivery not acknowledged within the lease (consumer died?)',
        );
      } else await this.deliver(stream, entry, deliveryCount);
    }
  }

  private labels() {
    return { topic: this.topic.name, subscription: this.subscription };
  }

  private async deliver(stream: string, entry: StreamEntry, deliveryCount: number): Promise<void> {
    const redis = this.options.redis;
    const fields = fieldsOf(entry);
    let event: T;
    try {
      event = parseEvent(this.topic, JSON.parse(fields['data'] ?? 'null'));
    } catch (error) {
      return this.bury(
        stream,
        entry,
        deliveryCount,
        `event does not fit topic ${this.topic.name}: ${String(error)}`,
      );
    }
    const context: EventContext = {
      eventId: fields['id'] ?? entry[0],
      topic: this.topic.name,
      subscription: this.subscription,
      deliveryCount,
      publishedAt: new Date(fields['published'] ?? 0),
      requestId: fields['request'],
      signal: this.abort.signal,
    };
    try {
      await this.handler(event, context);
    } catch (error) {
      // Cut short by stop(): hand it back for another consumer at once.
      if (this.abort.signal.aborted) return this.release(stream, entry[0]);
      this.metrics?.failed.inc(this.labels());
      const message = error instanceof Error ? error.message : String(error);
      if (deliveryCount >= this.maxDeliveries) return this.bury(stream, entry, deliveryCount, message);
      const delay = deliveryBackoffMs(deliveryCount, this.backoffBaseMs, this.leaseMs);
      this.options.logger?.warn(
        {
          err: error,
          eventId: context.eventId,
          reqId: context.requestId,
          subscription: this.name,
          deliveryCount,
          retryInMs: delay,
        },
        'event handler failed',
      );
      // Idle = lease - delay: XAUTOCLAIM (min idle = lease) takes it again after `delay`.
      this.letGo(stream, entry[0]);
      await redis.xclaim(
        stream,
        this.subscription,
        this.consumer,
        0,
        entry[0],
        'IDLE',
        this.leaseMs - delay,
        'JUSTID',
      );
      return;
    }
    await redis.xack(stream, this.subscription, entry[0]);
    this.letGo(stream, entry[0]);
    this.metrics?.delivered.inc(this.labels());
  }

  /** Moves an event to the dead letters and acknowledges it, in one MULTI (record first: never lost). */
  private async bury(
    stream: string,
    entry: StreamEntry,
    deliveryCount: number,
    error: string,
  ): Promise<void> {
    const fields = fieldsOf(entry);
    await this.options.redis
      .multi()
      .xadd(
        this.deadKey,
        '*',
        ...entry[1],
        'stream_id',
        entry[0],
        'deliveries',
        String(deliveryCount),
        'error',
        error,
        'dead_at',
        new Date().toISOString(),
      )
      .xack(stream, this.subscription, entry[0])
      .exec();
    this.letGo(stream, entry[0]);
    this.metrics?.dead.inc(this.labels());
    this.options.logger?.error(
      { eventId: fields['id'], reqId: fields['request'], subscription: this.name, deliveryCount, error },
      'event dead-lettered',
    );
  }

  /** Hands an event read while stopping back at once (idle = lease), without counting a failure. */
  private async release(stream: string, id: string): Promise<void> {
    this.letGo(stream, id);
    await this.options.redis
      .xclaim(stream, this.subscription, this.consumer, 0, id, 'IDLE', this.leaseMs, 'JUSTID')
      .catch(() => undefined);
  }
}
