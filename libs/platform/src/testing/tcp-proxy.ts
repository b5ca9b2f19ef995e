import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A TCP proxy a test puts between a service and a real server (Postgres, Redis) to break the network. */
export interface TcpProxy {
  /** Where clients connect, e.g. `127.0.0.1`. */
  host: string;
  /** The proxy's own port (picked at random when started). */
  port: number;
  /** How many client connections are open through the proxy now. */
  connections(): number;
  /**
   * Cuts the network: destroys every open connection (both sides see a reset/close at once). New
   * connections are still accepted and forwarded, unless {@link blackhole} is on.
   */
  cut(): void;
  /**
   * Partitions the network without closing anything: from now on every byte in either direction, on open
   * and on new connections, is read and thrown away, and so is a peer's FIN, as when a NAT or firewall
   * loses the flow. The peers keep their sockets and wait for answers that never come; what was sent
   * meanwhile is lost for good (so after {@link heal} a protocol stream may be out of step: {@link cut}
   * first to model a partition that ends with resets).
   */
  blackhole(): void;
  /** Ends the blackhole: bytes flow again (what was dropped stays dropped). */
  heal(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on a free loopback port that forwards to `target` and can {@link TcpProxy.cut} or
 * {@link TcpProxy.blackhole} the traffic, so tests can show what a service does when its database or
 * Redis goes away (no mocks: the service talks to the real server through a real socket). Stop it in
 * `afterAll`.
 *
 * @example
 * const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
 * const url = `postgres://postgres@127.0.0.1:${proxy.port}/test`;
 * // ... start the service on `url`, send a request, then:
 * proxy.cut();        // every connection is reset
 * proxy.blackhole();  // traffic is dropped, sockets stay open
 * proxy.heal();
 * await proxy.close();
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let dropping = false;

  // Half-open allowed, so a peer's FIN is forwarded like its bytes (and dropped like them in a blackhole).
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    const pair = { client, upstream };
    pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!dropping && !to.destroyed) to.write(chunk);
      });
      from.on('end', () => {
        if (!dropping) to.end();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', teardown);
      socket.on('close', teardown);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const destroyAll = (): void => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    connections: () => pairs.size,
    cut: destroyAll,
    blackhole() {
      dropping = true;
    },
    heal() {
      dropping = false;
    },
    close() {
      destroyAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
