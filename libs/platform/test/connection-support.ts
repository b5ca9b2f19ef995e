import { spawnTsx, type SpawnedProcess } from '../src/testing';
import { closedPort } from './support';

/** The fixture service on Postgres and Redis, for connection-loss tests. */
export const DATASTORE_FIXTURE_MAIN = new URL('./fixtures/datastore-fixture-main.ts', import.meta.url)
  .pathname;

/** Starting a tsx child takes seconds; on a loaded 2-core machine with other test files running, far more. */
export const CHILD_START_MS = 60_000;

/** Starts the datastore fixture (`serve`) on a free port with `env`; resolves once it listens. */
export async function startDatastoreFixture(
  env: Record<string, string>,
): Promise<{ proc: SpawnedProcess; base: string }> {
  const port = await closedPort();
  const proc = spawnTsx(DATASTORE_FIXTURE_MAIN, ['serve'], {
    PORT: String(port),
    SHUTDOWN_DRAIN_MS: '0',
    ...env,
  });
  await proc.waitForOutput('http server listening', CHILD_START_MS);
  return { proc, base: `http://127.0.0.1:${port}` };
}

/** An answer's status, content type, headers and parsed body; fails after `timeoutMs` instead of hanging. */
export async function get(
  url: string,
  timeoutMs = 15_000,
): Promise<{ status: number; type: string; retryAfter: string | null; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { connection: 'close' } });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/**
 * Polls `/health/ready` every 200 ms until it answers 200; resolves with the ms that took, or `undefined`
 * if it did not within `withinMs`.
 */
export async function readyWithin(base: string, withinMs: number): Promise<number | undefined> {
  const started = Date.now();
  for (let attempt = 0; attempt < 1000 && Date.now() - started < withinMs; attempt++) {
    const status = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(withinMs) })
      .then((res) => res.status)
      .catch(() => 0);
    if (status === 200) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}
