import { pino, type Logger } from 'pino';

/** What flushLogger reads of pino's asynchronous destination (sonic-boom): a write in flight, and its end. */
interface AsyncDestination {
  _writing?: boolean;
  once?: (event: 'drain', listener: () => void) => unknown;
  off?: (event: 'drain', listener: () => void) => unknown;
}

/**
 * Waits until the logger's destination has written every line logged so far, in order, or `timeoutMs`
 * passed (an exit never hangs on a stuck stdout). Call it before `process.exit`. Why: with the platform's
 * asynchronous destination (`pino.destination({ sync: false })`, sonic-boom), a write may be in flight in
 * libuv's thread pool when the process exits; pino's exit hook then writes the rest of the buffer
 * synchronously, ahead of the line in flight, so lines reach stdout out of order (seen: "http server
 * listening" after "shutdown complete"). sonic-boom's `flush(cb)` does not wait for that write when
 * `minLength` is 0 (it calls back at once), so this waits for its `drain` event instead.
 *
 * @example
 * await flushLogger(ctx.logger);
 * process.exit(code);
 */
export function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, AsyncDestination | undefined>)[pino.symbols.streamSym];
  if (!stream?._writing || typeof stream.once !== 'function') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      stream.off?.('drain', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    stream.once?.('drain', done);
  });
}
