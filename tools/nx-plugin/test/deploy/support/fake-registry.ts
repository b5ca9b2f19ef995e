import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stand-in Docker registry answering the Registry HTTP API V2 manifest HEAD, with Basic auth. */
export interface FakeRegistry {
  url: string;
  /** `name:tag` references it has. */
  tags: Set<string>;
  requests: { method: string; url: string; authorization?: string }[];
  close(): Promise<void>;
}

/**
 * `HEAD /v2/<name>/manifests/<tag>`: 200 with `Docker-Content-Digest` when the tag is present, 404
 * otherwise (the registry's `MANIFEST_UNKNOWN`, no body on HEAD); 401 with a Basic challenge when
 * `credentials` are set and the request does not carry them.
 *
 * @example
 * const registry = await startFakeRegistry(['ittd/notifier:abc123']);
 */
export async function startFakeRegistry(tags: string[], credentials?: string): Promise<FakeRegistry> {
  const state = { tags: new Set(tags), requests: [] as FakeRegistry['requests'] };
  const server = createServer((req, res) => {
    state.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
    });
    if (credentials && req.headers.authorization !== `Basic ${Buffer.from(credentials).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
      return;
    }
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    if (req.method !== 'HEAD' || !match) return void res.writeHead(404).end();
    const present = state.tags.has(`${match[1]}:${decodeURIComponent(match[2])}`);
    if (!present) return void res.writeHead(404, { 'content-type': 'application/json' }).end();
    res
      .writeHead(200, {
        'docker-content-digest': 'sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b',
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
      })
      .end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
