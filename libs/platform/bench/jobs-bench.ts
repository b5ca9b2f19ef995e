/**
 * `npm run bench:jobs`: the platform job queue against BullMQ on the same Redis, in one run.
 * Each round, alternating which system goes first: enqueue 50,000 no-op jobs in bulk (timed in this
 * process), then drain them with one worker process at concurrency 50 (timed in that process, until the
 * queue is empty in Redis). Then enqueue-to-start latency at 1,000 jobs/s for each. Prints medians and, last,
 * one JSON line with the ratios (of the medians, and the median of per-round ratios). Both systems run with retries (10 attempts), a rate limiter (far above the
 * load) and at-least-once leases/locks; the platform queue also keeps its Prometheus metrics.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { defineJob, JobQueue } from '../src/jobs';
import {
  BENCH_PREFIX,
  BULLMQ_JOB_OPTIONS,
  BULLMQ_OPTIONS,
  BULLMQ_QUEUE,
  ITTD_QUEUE,
  REDIS_URL,
} from './jobs-bench-config';

type System = 'ittd' | 'bullmq';
const JOBS = Number(process.env.BENCH_JOBS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_JOBS = 3000;
const LATENCY_RATE = 1000;
const workerScript = fileURLToPath(new URL('./jobs-bench-worker.ts', import.meta.url));

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const ittd = new JobQueue({ redis, prefix: `${BENCH_PREFIX}ittd:` });
const noop = defineJob(
  'noop',
  z.object({ i: z.number(), sentAt: z.number().optional() }),
  () => Promise.resolve(),
  {
    queue: ITTD_QUEUE,
  },
);
const bullmq = new Queue(BULLMQ_QUEUE, { ...BULLMQ_OPTIONS, connection: redis });

async function clean(): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${BENCH_PREFIX}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function enqueue(system: System, payloads: { i: number; sentAt?: number }[]): Promise<void> {
  if (system === 'ittd') await ittd.enqueueMany(noop, payloads);
  else await bullmq.addBulk(payloads.map((data) => ({ name: 'noop', data, opts: BULLMQ_JOB_OPTIONS })));
}

/** Starts a worker process; resolves `ready` once it listens and `result` with its JSON line. */
function startWorker(system: System, mode: 'drain' | 'latency', jobs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript, system, mode, String(jobs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('ready\n')) onReady();
  });
  const result = new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${system} ${mode} worker timed out`));
    }, 120_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Record<string, number>);
      else reject(new Error(`${system} ${mode} worker exited ${code}: ${out}`));
    });
  });
  return { ready, result };
}

async function throughputRound(system: System): Promise<{ enqueue: number; process: number }> {
  await clean();
  const payloads = Array.from({ length: JOBS }, (_, i) => ({ i }));
  const started = performance.now();
  await enqueue(system, payloads);
  const enqueueSeconds = (performance.now() - started) / 1000;
  const { result } = startWorker(system, 'drain', JOBS);
  const { seconds } = await result;
  return { enqueue: JOBS / enqueueSeconds, process: JOBS / seconds };
}

async function latencyRun(system: System): Promise<Record<string, number>> {
  await clean();
  const { ready, result } = startWorker(system, 'latency', LATENCY_JOBS);
  await ready;
  await new Promise((resolve) => setTimeout(resolve, 300)); // let the worker go idle
  const start = performance.now();
  let sent = 0;
  while (sent < LATENCY_JOBS) {
    const due = Math.min(LATENCY_JOBS, Math.floor(((performance.now() - start) / 1000) * LATENCY_RATE) + 1);
    const batch: Promise<void>[] = [];
    for (; sent < due; sent++) {
      batch.push(enqueue(system, [{ i: sent, sentAt: performance.timeOrigin + performance.now() }]));
    }
    await Promise.all(batch);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return result;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const results: Record<System, { enqueue: number[]; process: number[] }> = {
    ittd: { enqueue: [], process: [] },
    bullmq: { enqueue: [], process: [] },
  };
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`jobs bench: ${JOBS} no-op jobs, ${ROUNDS} rounds, worker concurrency 50, Redis ${REDIS_URL}`);
  console.log(`load average at start: ${load()} (this machine has 2 cores; other work skews every number)`);
  // Warm both producers up (JIT, script cache) so round 1 does not time compilation.
  for (const system of ['ittd', 'bullmq'] as const) {
    await clean();
    await enqueue(
      system,
      Array.from({ length: 2000 }, (_, i) => ({ i })),
    );
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const order: System[] = round % 2 === 1 ? ['bullmq', 'ittd'] : ['ittd', 'bullmq'];
    for (const system of order) {
      const r = await throughputRound(system);
      results[system].enqueue.push(r.enqueue);
      results[system].process.push(r.process);
      console.log(
        `round ${round} ${system.padEnd(6)} enqueue ${fmt(r.enqueue).padStart(9)} jobs/s   process ${fmt(r.process).padStart(9)} jobs/s`,
      );
    }
  }
  const latency = { ittd: await latencyRun('ittd'), bullmq: await latencyRun('bullmq') };
  await clean();
  const med = (system: System) => ({
    enqueue: median(results[system].enqueue),
    process: median(results[system].process),
  });
  const [a, b] = [med('ittd'), med('bullmq')];
  console.log(`median ittd   enqueue ${fmt(a.enqueue)} jobs/s, process ${fmt(a.process)} jobs/s`);
  console.log(`median bullmq enqueue ${fmt(b.enqueue)} jobs/s, process ${fmt(b.process)} jobs/s`);
  for (const system of ['ittd', 'bullmq'] as const) {
    const l = latency[system];
    console.log(
      `latency ${system.padEnd(6)} at ${LATENCY_RATE} jobs/s: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms`,
    );
  }
  await bullmq.close();
  await redis.quit();
  const ratio = (x: number, y: number) => Math.round((x / y) * 10) / 10;
  // Ratio within each round (both systems measured minutes apart at most), robust to load drifting over the run.
  const paired = (key: 'enqueue' | 'process') =>
    ratio(median(results.ittd[key].map((v, i) => v / results.bullmq[key][i])), 1);
  console.log(`load average at end: ${load()}`);
  console.log(
    JSON.stringify({
      enqueue_ratio_vs_bullmq: ratio(a.enqueue, b.enqueue),
      process_ratio_vs_bullmq: ratio(a.process, b.process),
      paired_enqueue_ratio: paired('enqueue'),
      paired_process_ratio: paired('process'),
      ittd_enqueue_per_s: Math.round(a.enqueue),
      ittd_process_per_s: Math.round(a.process),
      bullmq_enqueue_per_s: Math.round(b.enqueue),
      bullmq_process_per_s: Math.round(b.process),
      ittd_latency_p99_ms: Math.round(latency.ittd.p99 * 100) / 100,
      bullmq_latency_p99_ms: Math.round(latency.bullmq.p99 * 100) / 100,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
