/**
 * The worker process of `npm run bench:jobs` (one per system and round, so both systems get a fresh
 * process). argv: <ittd|bullmq> <drain|latency> <jobs>. Prints one JSON line:
 *  drain:   { seconds, cpuMs, systemCpuMs } from the worker's start until every job ran and the queue is empty
 *           in Redis (cpuMs: this process's user + system CPU over that span, steadier than seconds on a busy
 *           machine; systemCpuMs: the system part, mostly the socket reads and writes of the round trips);
 *  latency: { p50, p99, max } in ms from enqueue (payload `sentAt`, same machine clock) to handler start.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { defineJob, JobQueue } from '../src/jobs';
import {
  BENCH_PREFIX,
  BULLMQ_OPTIONS,
  BULLMQ_QUEUE,
  ITTD_QUEUE,
  ITTD_RATE_LIMIT,
  REDIS_URL,
} from './jobs-bench-config';

const [system, mode, countArg] = process.argv.slice(2);
const total = Number(countArg);
const latencies: number[] = [];
let processed = 0;
let finish: () => void = () => undefined;
const allRan = new Promise<void>((resolve) => (finish = resolve));

function onJob(sentAt: number | undefined): void {
  if (mode === 'latency' && sentAt !== undefined)
    latencies.push(performance.timeOrigin + performance.now() - sentAt);
  if (++processed === total) finish();
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 2));
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  let started: number;
  let cpuAtStart = process.cpuUsage();
  let stop: () => Promise<void>;
  if (system === 'ittd') {
    const queue = new JobQueue({ redis, prefix: `${BENCH_PREFIX}ittd:`, registry: new Registry() });
    const job = defineJob(
      'noop',
      z.object({ i: z.number(), sentAt: z.number().optional() }),
      async ({ sentAt }) => {
        onJob(sentAt);
      },
      { queue: ITTD_QUEUE },
    );
    const worker = queue.createWorker({
      jobs: [job],
      concurrency: 50,
      rateLimits: { [ITTD_QUEUE]: ITTD_RATE_LIMIT },
    });
    started = performance.now();
    cpuAtStart = process.cpuUsage();
    await worker.start();
    stop = async () => {
      await allRan;
      await waitUntil(async () => (await redis.hlen(queue.keys(ITTD_QUEUE).jobs)) === 0);
      await worker.stop();
    };
  } else {
    const worker = new Worker(
      BULLMQ_QUEUE,
      async (job) => {
        onJob((job.data as { sentAt?: number }).sentAt);
      },
      { ...BULLMQ_OPTIONS, connection: redis, concurrency: 50, autorun: false },
    );
    await worker.waitUntilReady();
    started = performance.now();
    cpuAtStart = process.cpuUsage();
    void worker.run();
    stop = async () => {
      await allRan;
      const key = `${BENCH_PREFIX}bullmq:${BULLMQ_QUEUE}`;
      await waitUntil(
        async () => (await redis.llen(`${key}:wait`)) + (await redis.llen(`${key}:active`)) === 0,
      );
      await worker.close();
    };
  }
  process.stdout.write('ready\n');
  await stop();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  if (mode === 'drain') {
    process.stdout.write(
      `${JSON.stringify({ seconds, cpuMs: (cpu.user + cpu.system) / 1000, systemCpuMs: cpu.system / 1000 })}\n`,
    );
  } else {
    latencies.sort((a, b) => a - b);
    const at = (q: number): number =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    process.stdout.write(`${JSON.stringify({ p50: at(0.5), p99: at(0.99), max: at(1) })}\n`);
  }
  await redis.quit();
}

void main();
