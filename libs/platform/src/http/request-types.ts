import type { Logger } from 'pino';

declare global {
  // Express reads its Request type from this global namespace; the request-context middleware fills these.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request id: the caller's `X-Request-ID` if it is sane, else a fresh one. Echoed in the answer. */
      id: string;
      /** A child logger with `reqId` on every line. */
      log: Logger;
    }
  }
}

export {};
