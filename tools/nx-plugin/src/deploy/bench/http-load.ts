import { Agent, request } from 'node:http';

/** One request of a load run: when it started (ms since the run began), how long it took, how it ended. */
export interface LoadSample {
  atMs: number;
  ms: number;
  /** The HTTP status, or 0 when the request failed without one (connection refused/reset, time-out). */
  status: number;
  error?: string;
}

/** Options of {@link startLoad}. */
export interface LoadOptions {
  /** Full URL of the route, loopback only (e.g. http://127.0.0.1:3000/v1/applets). */
  url: string;
  /** One `Authorization` header per loop (each loop is one keep-alive client, e.g. one user's token). */
  authorizations: readonly string[];
  /** Requests per second each loop sends (paced, not as fast as possible). */
  ratePerLoop: number;
  /** Hard bounds: the run stops at whichever comes first. */
  maxRequests: number;
  maxSeconds: number;
  /** A request without an answer after this many ms counts as failed. */
  timeoutMs?: number;
}

/** A running load: {@link LoadRun.stop} ends it and returns every sample. */
export interface LoadRun {
  /** ms since the run began. */
  now(): number;
  stop(): Promise<LoadSample[]>;
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * Steady HTTP load the way a real client fleet sends it: `authorizations.length` loops, each a keep-alive
 * client (`http.Agent({ keepAlive: true, maxSockets: 1 })`: it reuses its connection, and reconnects
 * when an answer says `Connection: close`), each sending `ratePerLoop` GETs a second. Every request is a
 * sample; a failure is a connection error, a time-out or a 5xx (the caller decides). Bounded by
 * `maxRequests` and `maxSeconds`; loopback URLs only.
 *
 * @example
 * const run = startLoad({ url: 'http://127.0.0.1:3000/v1/applets', authorizations: ['Bearer t1'], ratePerLoop: 10, maxRequests: 10_000, maxSeconds: 120 });
 * const samples = await run.stop();
 */
export function startLoad(options: LoadOptions): LoadRun {
  const url = new URL(options.url);
  if (!isLoopback(url)) throw new Error(`load goes to loopback only, not ${url.hostname}`);
  const started = performance.now();
  const now = () => performance.now() - started;
  const samples: LoadSample[] = [];
  let stopped = false;
  const interval = 1000 / options.ratePerLoop;
  const timeoutMs = options.timeoutMs ?? 10_000;

  const one = (agent: Agent, authorization: string): Promise<LoadSample> =>
    new Promise((resolve) => {
      const atMs = now();
      const done = (status: number, error?: string) => resolve({ atMs, ms: now() - atMs, status, error });
      const req = request(url, { agent, headers: { authorization }, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', (error) => done(0, error.message));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => done(0, error.code ?? error.message));
      req.end();
    });

  const loops = options.authorizations.map(async (authorization, index) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Loops start spread over one interval, so requests do not arrive in bursts.
    let next = (interval * index) / options.authorizations.length;
    while (!stopped && samples.length < options.maxRequests && now() < options.maxSeconds * 1000) {
      const wait = next - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      next += interval;
      samples.push(await one(agent, authorization));
    }
    agent.destroy();
  });
  const all = Promise.all(loops);
  return {
    now,
    async stop() {
      stopped = true;
      await all;
      return samples;
    },
  };
}

/**
 * The p-quantile (0..1) of the samples' latencies in ms (nearest rank); 0 for no samples.
 *
 * @example
 * quantileMs([{ atMs: 0, ms: 3, status: 200 }], 0.99); // 3
 */
export function quantileMs(samples: readonly LoadSample[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/** Whether a sample counts as a failed request: no answer (connection error, time-out) or a 5xx. */
export function failed(sample: LoadSample): boolean {
  return sample.status === 0 || sample.status >= 500;
}
