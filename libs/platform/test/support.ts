import type { Server } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { createHttpService, createLogger, createMetricsRegistry, HealthRegistry } from '../src/index';

/** A port nothing listens on: bound once by us, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A pino destination collecting the parsed JSON log lines. */
export function logCollector(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { stream, lines };
}

/** The path of the fixture service's entry point, for child-process tests. */
export const FIXTURE_MAIN = new URL('./fixtures/fixture-main.ts', import.meta.url).pathname;

/** A platform app (`createHttpService`) with the given routes on a free loopback port, and its log lines. */
export async function listenHttpService(
  routes: (app: Express) => void,
): Promise<{ url: string; server: Server; logs: Array<Record<string, unknown>> }> {
  const logs = logCollector();
  const app = createHttpService({
    logger: createLogger({ service: 'http-test', destination: logs.stream }),
    metrics: createMetricsRegistry('http-test'),
    health: new HealthRegistry('http-test'),
    routes,
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, logs: logs.lines };
}

/** A raw TCP connection to a local port. */
export interface RawSocket {
  socket: Socket;
  /** Settles when the server closes (or resets) the connection. */
  closed: Promise<void>;
  /** Everything the server has sent so far. */
  received(): string;
  /** Resolves once the server has sent `text` (rejects after `timeoutMs` or on close). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

/**
 * Opens a raw TCP connection to a local port and writes `bytes` (possibly nothing, or half a request);
 * then it stays silent. The caller destroys `socket`.
 *
 * @example
 * const slowloris = await rawSocket(port, 'GET / HTTP/1.1\r\nHost: x\r\n'); // half the headers
 */
export async function rawSocket(port: number, bytes: string): Promise<RawSocket> {
  const socket = connect({ port, host: '127.0.0.1' });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined); // a reset by the server is a close too
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  if (bytes) await new Promise<void>((resolve) => socket.write(bytes, () => resolve()));
  return {
    socket,
    closed,
    received: () => received,
    waitFor(text, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!received.includes(text)) return;
          finish();
          resolve();
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no "${text}" within ${timeoutMs} ms; received ${JSON.stringify(received)}`));
        }, timeoutMs);
        const onClose = (): void => {
          finish();
          reject(new Error(`closed before "${text}"; received ${JSON.stringify(received)}`));
        };
        const finish = (): void => {
          clearTimeout(timer);
          socket.off('data', check);
          socket.off('close', onClose);
        };
        socket.on('data', check);
        socket.once('close', onClose);
        check();
      });
    },
  };
}
