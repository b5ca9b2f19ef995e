import pg from 'pg';
import type { Logger } from 'pino';
import type { Component } from '../lifecycle/component';

/** Options of {@link PgListener}. */
export interface PgListenerOptions {
  /** Connection settings of the listening connection (its own, outside any pool). */
  connection: pg.ClientConfig;
  /** The channel to `LISTEN` on (an identifier; quoted here). */
  channel: string;
  /**
   * Called for each notification on the channel, and once after every (re)connection, since notifications
   * sent while no connection listened are lost. Must not throw.
   */
  onNotification: () => void;
  logger?: Logger;
}

/** Reconnect delay after the n-th failed attempt: 100 ms doubling, capped at 5 s; never gives up. */
function reconnectDelayMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 5000);
}

/**
 * One dedicated Postgres connection that `LISTEN`s on a channel (Postgres `LISTEN`/`NOTIFY`: a notification
 * is delivered when the transaction that sent it commits, never for a rolled-back one). It reconnects by
 * itself with backoff (100 ms doubling to 5 s) when the connection fails or the server ends it, and calls
 * `onNotification` after each reconnection so that a caller who treats a notification as "look again"
 * misses nothing. A wake-up signal only, not a queue: notifications carry no data here and may be merged.
 * A lifecycle component: `start()` does not wait for the first connection (a listener is an optimisation,
 * never a reason not to start); `stop()` ends the connection.
 *
 * @example
 * const listener = new PgListener({ connection: { connectionString: url }, channel: 'platform_event_outbox',
 *   onNotification: () => relay.poke(), logger });
 * await listener.start();
 */
export class PgListener implements Component {
  readonly name: string;
  private client: pg.Client | undefined;
  private stopping = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PgListenerOptions) {
    this.name = `pg-listener:${options.channel}`;
  }

  async start(): Promise<void> {
    this.stopping = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const client = new pg.Client(this.options.connection);
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.options.onNotification();
    });
    client.on('error', (error: Error) => this.reconnect(client, error));
    client.on('end', () => this.reconnect(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
      if (this.attempt > 0) this.options.logger?.info({ channel: this.options.channel }, 'listening again');
      this.attempt = 0;
      this.options.onNotification();
    } catch (error) {
      this.reconnect(client, error);
    }
  }

  /** Drops a failed connection (once: error and end both come) and connects again after the backoff. */
  private reconnect(client: pg.Client, error: unknown): void {
    if (client !== this.client || this.stopping) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.attempt++;
    if (this.attempt === 1)
      this.options.logger?.warn(
        { err: error, channel: this.options.channel },
        'postgres LISTEN connection lost; reconnecting',
      );
    this.retryTimer = setTimeout(() => void this.connect(), reconnectDelayMs(this.attempt));
  }
}
