import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Component } from '../lifecycle/component';

/** Options of {@link httpServerComponent}. */
export interface HttpServerOptions {
  /** 0 picks a free port (tests); read the real one from `url()` after start. */
  port: number;
  /** Defaults to all interfaces (`::`/`0.0.0.0`); tests pass `127.0.0.1`. */
  host?: string;
  logger: Logger;
}

/** An HTTP server as a lifecycle component; `url()` is valid once started. */
export interface HttpServerComponent extends Component {
  server: Server;
  url(): string;
}

/**
 * Wraps a request listener (an Express app) in a server that stops gracefully: on `stop()` it stops
 * accepting connections, closes idle keep-alive sockets, answers in-flight requests with
 * `Connection: close`, and resolves once they have all finished. The lifecycle's deadline bounds the wait.
 *
 * @example
 * lifecycle.register(httpServerComponent(app, { port: config.PORT, logger }));
 */
export function httpServerComponent(
  listener: RequestListener,
  options: HttpServerOptions,
): HttpServerComponent {
  const inFlight = new Set<ServerResponse>();
  let stopping = false;

  function untrack(this: ServerResponse): void {
    inFlight.delete(this);
    // A keep-alive socket turns idle after its answer; while stopping nothing else may use it.
    if (stopping) server.closeIdleConnections();
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (stopping) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.on('close', untrack);
    listener(req, res);
  });
  server.keepAliveTimeout = 65_000; // above common load-balancer idle time-outs (60 s), so the LB closes first

  return {
    name: 'http-server',
    server,
    url() {
      const address = server.address() as AddressInfo | null;
      if (!address) throw new Error('http server is not listening');
      // A wildcard bind is reachable on loopback; a specific address is used as is.
      const wildcard = address.address === '::' || address.address === '0.0.0.0';
      const host = wildcard
        ? '127.0.0.1'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
      return `http://${host}:${address.port}`;
    },
    start() {
      return new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          options.logger.info({ url: this.url() }, 'http server listening');
          resolve();
        });
      });
    },
    stop() {
      stopping = true;
      if (!server.listening) return Promise.resolve();
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      options.logger.info({ inFlight: inFlight.size }, 'http server closing; draining in-flight requests');
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}
