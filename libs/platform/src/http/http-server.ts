import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Component } from '../lifecycle/component';

/**
 * ms a client has to send the request line and headers, counted from the connection or from the first
 * byte of the next request on a keep-alive connection; past it Node answers 408 and closes. Far below
 * Node's 60 s default, so slowloris sockets do not pile up; an idle keep-alive connection is not affected
 * (only {@link KEEP_ALIVE_TIMEOUT_MS} applies between requests). Node checks every 30 s.
 */
const HEADERS_TIMEOUT_MS = 20_000;

/** ms a client has to send a whole request (headers and body, at most `BODY_LIMIT`); Node's default is 300 s. */
const REQUEST_TIMEOUT_MS = 60_000;

/** Above common load-balancer idle time-outs (60 s), so the load balancer closes an idle connection first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Options of {@link httpServerComponent}. */
export interface HttpServerOptions {
  /** 0 picks a free port (tests); read the real one from `url()` after start. */
  port: number;
  /** Defaults to all interfaces (`::`/`0.0.0.0`); tests pass `127.0.0.1`. */
  host?: string;
  logger: Logger;
  /** Component name and the subject of its "listening" log line; default `http-server` ("http server listening"). */
  name?: string;
}

/** An HTTP server as a lifecycle component; `url()` is valid once started. */
export interface HttpServerComponent extends Component {
  server: Server;
  /** Listens on the port; rejects when it cannot (port in use). */
  start(): Promise<void>;
  /** From now on every answer carries `Connection: close`; the server still serves. Idempotent. */
  drain(): void;
  url(): string;
}

/**
 * Wraps a request listener (an Express app) in a server that stops gracefully and promptly.
 *
 * `drain()` (called by the lifecycle the moment shutdown begins, before `SHUTDOWN_DRAIN_MS`) makes every
 * answer from then on carry `Connection: close`: the answers to new requests, and those in flight whose
 * headers are not sent yet (`res.shouldKeepAlive = false`). A load balancer that balances connections, not
 * requests (Swarm's routing mesh / IPVS, marathon-lb in TCP mode), keeps an open keep-alive connection
 * pinned to this task even after readiness fails; so each active client is told with its next answer to
 * reconnect, which the load balancer sends to another task, and by `stop()` only idle sockets remain.
 * Idle keep-alive sockets are deliberately NOT closed at drain: closing a socket races with a client that
 * sends its next request on it at that moment (the request is lost: ECONNRESET / "socket hang up"), while
 * leaving it open lets that request get its `Connection: close` answer. The one case left is a client idle
 * for the whole drain: its socket is closed at `stop()`, and Node's `http.Agent` (like most clients)
 * discards a pooled socket closed while idle, but only if the server's FIN arrived before it reused it.
 *
 * On `stop()` it stops accepting connections and:
 * - lets every request that has fully arrived finish: its answer goes out with `Connection: close` (or, if
 *   its headers were already sent, the socket closes right after it);
 * - closes at once every socket that carries no such request: connected but silent, half a request line or
 *   half the headers (slowloris), idle keep-alive between requests, upgraded (WebSocket, CONNECT) sockets,
 *   and a request whose body is still arriving and that has no answer yet (the platform's body parser has
 *   not handed it to a route, so nothing was done for it; its client sees the connection close and may
 *   retry elsewhere).
 * `stop()` resolves when the last answer is out. The lifecycle's deadline bounds the wait for handlers that
 * never answer. Every HTTP server the platform starts (a service's web app, a worker's health server) is
 * this component.
 *
 * While serving, a client has 20 s for its headers and 60 s for its whole request (past either Node answers
 * 408 and closes); an idle keep-alive connection closes after 65 s.
 *
 * @example
 * lifecycle.register(httpServerComponent(app, { port: config.PORT, logger }));
 */
export function httpServerComponent(
  listener: RequestListener,
  options: HttpServerOptions,
): HttpServerComponent {
  /** Every open socket of the server, whatever state it is in. */
  const sockets = new Set<Socket>();
  /** Responses not yet finished (and whose socket is still open). */
  const inFlight = new Set<ServerResponse>();
  /** Set by `drain()` (and `stop()`): every answer from then on carries `Connection: close`. */
  let draining = false;
  let stopping = false;

  function forgetSocket(this: Socket): void {
    sockets.delete(this);
  }

  // Per request only a Set entry and a shared listener, no closure: this is the hot path.
  function answered(this: ServerResponse): void {
    inFlight.delete(this);
    if (!stopping) return;
    // A keep-alive socket turns idle after its answer; while stopping nothing else may use it. destroySoon
    // flushes the answer's bytes before closing. (`res.socket` is already detached here; `req.socket` is not.)
    const socket = this.req.socket;
    for (const res of inFlight) if (res.req.socket === socket) return;
    socket.destroySoon();
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.on('close', answered);
    if (draining) res.shouldKeepAlive = false;
    listener(req, res);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', forgetSocket);
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  /**
   * Closes the sockets that carry no answer to wait for; the others close after theirs. An answer is waited
   * for once it has started or its request has fully arrived. Counts both, for the log.
   */
  function closeUnansweredSockets(): { closed: number; inFlight: number } {
    const answering = new Set<Socket>();
    let waiting = 0;
    for (const res of inFlight) {
      if (!res.headersSent) res.shouldKeepAlive = false;
      if (res.headersSent || res.req.complete) {
        answering.add(res.req.socket);
        waiting++;
      }
    }
    let closed = 0;
    for (const socket of sockets) {
      if (answering.has(socket)) continue;
      socket.destroy();
      closed++;
    }
    return { closed, inFlight: waiting };
  }

  return {
    name: options.name ?? 'http-server',
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
          options.logger.info(
            // `address`: the interface bound (`::` or `0.0.0.0`: every one; HOST or `host` otherwise).
            { url: this.url(), address: (server.address() as AddressInfo).address },
            `${(options.name ?? 'http-server').replace(/-/g, ' ')} listening`,
          );
          resolve();
        });
      });
    },
    drain() {
      if (draining) return;
      draining = true;
      let closing = 0;
      for (const res of inFlight) {
        if (res.headersSent) continue; // its socket gets Connection: close with the next answer
        res.shouldKeepAlive = false;
        closing++;
      }
      options.logger.info(
        { inFlight: inFlight.size, closing },
        'http server draining; answering Connection: close',
      );
    },
    stop() {
      draining = true;
      stopping = true;
      if (!server.listening) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        const { closed, inFlight } = closeUnansweredSockets();
        options.logger.info(
          { closedSockets: closed, inFlight },
          'http server closing; sockets without an answer closed, draining in-flight requests',
        );
      });
    },
  };
}
