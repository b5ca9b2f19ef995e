// `npm run bench:http`: the platform's HTTP stack against bare Express 5 on the same JSON route, on this
// machine, loopback only. Each server runs in its own process (the load generator must not share its event
// loop); rounds alternate between the two so drift on a shared machine hits both. Prints a table and ends
// with one JSON line: {"platform_vs_bare_express_rps_ratio": <median over rounds of platform/bare req/s>}.
// The ratio is taken per round (the two runs of a round are back to back) and the median of those is
// reported: on a shared machine that is steadier than dividing the two medians. The table also shows the
// server's CPU time per request (user + system, from the server process), a second view of the overhead.
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';

const ROUNDS = Math.min(Number(process.env.BENCH_ROUNDS ?? 5), 20);
const ROUND_SECONDS = Math.min(Number(process.env.BENCH_SECONDS ?? 4), 30);
const WARMUP_SECONDS = 2;
const CONNECTIONS = 10;

type Kind = 'bare' | 'platform';

interface Round {
  rps: number;
  p99: number;
  cpuMicrosPerRequest: number;
}

interface Server {
  child: ChildProcess;
  url: string;
}

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const serverEntry = new URL('./http-stack-server.ts', import.meta.url).pathname;

/** Starts one server process with its stdout (the request logs) going to /dev/null. */
function startServer(kind: Kind): Promise<Server> {
  const devNull = openSync('/dev/null', 'w');
  const child = fork(tsxCli, [serverEntry, kind], { stdio: ['ignore', devNull, 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 20 s`)), 20_000);
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve({ child, url: `http://127.0.0.1:${message.port}/hello` });
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

/** The server process' CPU time so far, in microseconds (user + system). */
function cpuMicros(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { cpu: NodeJS.CpuUsage }) =>
      resolve(message.cpu.user + message.cpu.system),
    );
    server.child.send('cpu');
  });
}

async function load(server: Server, seconds: number): Promise<Round> {
  const cpuBefore = await cpuMicros(server);
  const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: seconds });
  const cpu = (await cpuMicros(server)) - cpuBefore;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${server.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    cpuMicrosPerRequest: cpu / result.requests.total,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  const servers = { bare: await startServer('bare'), platform: await startServer('platform') };
  const rounds: Record<Kind, Round[]> = { bare: [], platform: [] };
  try {
    for (const kind of ['bare', 'platform'] as const) await load(servers[kind], WARMUP_SECONDS);
    for (let round = 0; round < ROUNDS; round++) {
      const order: Kind[] = round % 2 === 0 ? ['bare', 'platform'] : ['platform', 'bare'];
      for (const kind of order) {
        const result = await load(servers[kind], ROUND_SECONDS);
        rounds[kind].push(result);
        process.stderr.write(
          `round ${round + 1}/${ROUNDS} ${kind}: ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, ` +
            `${result.cpuMicrosPerRequest.toFixed(1)} µs CPU/request\n`,
        );
      }
    }
  } finally {
    servers.bare.child.kill();
    servers.platform.child.kill();
  }

  const summary = (kind: Kind): Round => ({
    rps: median(rounds[kind].map((r) => r.rps)),
    p99: median(rounds[kind].map((r) => r.p99)),
    cpuMicrosPerRequest: median(rounds[kind].map((r) => r.cpuMicrosPerRequest)),
  });
  const bare = summary('bare');
  const platform = summary('platform');
  const ratios = rounds.platform.map((result, round) => result.rps / rounds.bare[round].rps);
  const ratio = Math.round(median(ratios) * 100) / 100;
  console.log(`\nGET /hello, ${CONNECTIONS} connections, ${ROUNDS} rounds x ${ROUND_SECONDS} s (medians)`);
  const row = (r: Round) => ({
    'req/s': Math.round(r.rps),
    'p99 ms': r.p99,
    'CPU µs/request': Math.round(r.cpuMicrosPerRequest),
  });
  console.table({ 'bare express 5': row(bare), '@ittd/platform': row(platform) });
  console.log(
    `platform / bare req/s per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${ratio}`,
  );
  const cpuRatio = bare.cpuMicrosPerRequest / platform.cpuMicrosPerRequest;
  console.log(`bare / platform CPU per request: ${cpuRatio.toFixed(2)}`);
  console.log(JSON.stringify({ platform_vs_bare_express_rps_ratio: ratio }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
