import type { AddressInfo } from 'node:net';
import express from 'express';

/** Ways the tiny partner breaks the Service API, each one on purpose. */
export interface TinyPartnerFlaws {
  /** Answers every `limit` with all its events. */
  ignoreLimit?: boolean;
  /** Accepts any service key. */
  acceptAnyKey?: boolean;
  /** Answers the skipping samples 400 without `status: "SKIP"`. */
  noSkip?: boolean;
  /** Has only this many events. */
  eventCount?: number;
  /** Answers events oldest first. */
  oldestFirst?: boolean;
  /** Rejects requests with keys it does not know (400). */
  strictKeys?: boolean;
}

/** A running tiny partner. */
export interface TinyPartner {
  url: string;
  serviceKey: string;
  close(): Promise<void>;
}

/**
 * A second, independent partner of a few lines (one trigger `ping`, one action `note` that skips the
 * `skip` list), so the check is tested against more than the sandbox: without flaws it follows the Service
 * API; each flaw breaks one rule the check must name.
 *
 * @example
 *   const partner = await startTinyPartner({ ignoreLimit: true });
 */
export async function startTinyPartner(flaws: TinyPartnerFlaws = {}): Promise<TinyPartner> {
  const serviceKey = 'tiny-partner-key-0123456789';
  const app = express();
  app.use(express.json());
  app.use('/ifttt/v1', (req, res, next) => {
    if (!flaws.acceptAnyKey && req.get('ifttt-service-key') !== serviceKey) {
      res.status(401).json({ errors: [{ message: 'bad key' }] });
      return;
    }
    next();
  });
  app.get('/ifttt/v1/status', (_req, res) => {
    res.json({});
  });
  app.post('/ifttt/v1/test/setup', (_req, res) => {
    res.json({
      data: {
        samples: {
          triggers: { ping: { host: 'example.com' } },
          actions: { note: { list: 'todo', text: 'hi' } },
          actionRecordSkipping: { note: { list: 'skip', text: 'hi' } },
        },
      },
    });
  });
  const known = new Set([
    'trigger_identity',
    'triggerFields',
    'user',
    'limit',
    'ifttt_source',
    'actionFields',
  ]);
  app.post('/ifttt/v1/triggers/ping', (req, res) => {
    if (flaws.strictKeys && Object.keys(req.body).some((key) => !known.has(key))) {
      res.status(400).json({ errors: [{ message: 'unknown key' }] });
      return;
    }
    const count = flaws.eventCount ?? 5;
    const events = Array.from({ length: count }, (_, n) => ({
      host: 'example.com',
      meta: { id: `ping-${count - n}`, timestamp: 1_700_000_000 + (count - n) * 60 },
    }));
    if (flaws.oldestFirst) events.reverse();
    res.json({ data: flaws.ignoreLimit ? events : events.slice(0, req.body.limit ?? 50) });
  });
  app.post('/ifttt/v1/actions/note', (req, res) => {
    if (req.body.actionFields?.list === 'skip') {
      res
        .status(400)
        .json({ errors: [flaws.noSkip ? { message: 'skipped' } : { status: 'SKIP', message: 'skipped' }] });
      return;
    }
    res.json({ data: [{ id: 'note-1' }] });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serviceKey,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
