import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { testRedisUrl, withAdminClient, TEST_POSTGRES_ADMIN_URL } from '@ittd/platform/testing';
import { DEFAULT_METRICS_PORT, generateKeyringEntry } from '@ittd/platform';
import { Redis } from 'ioredis';

/** The engine's services (the apps under `apps/`). */
export type EngineServiceName = 'applets' | 'trigger-poller' | 'actions' | 'partner-sandbox';

/** The engine's processes: each service's web process (`serve`) plus the workers of trigger-poller and actions. */
export type EngineProcessName =
  'applets' | 'trigger-poller' | 'trigger-poller-worker' | 'actions' | 'actions-worker' | 'partner-sandbox';

/** Which service and command (`main.js serve|worker`) each process runs. */
export const ENGINE_PROCESSES: Readonly<
  Record<EngineProcessName, { service: EngineServiceName; command: 'serve' | 'worker' }>
> = {
  applets: { service: 'applets', command: 'serve' },
  'trigger-poller': { service: 'trigger-poller', command: 'serve' },
  'trigger-poller-worker': { service: 'trigger-poller', command: 'worker' },
  actions: { service: 'actions', command: 'serve' },
  'actions-worker': { service: 'actions', command: 'worker' },
  'partner-sandbox': { service: 'partner-sandbox', command: 'serve' },
};

/** The fixed development ports (`npm run engine`; the same as each app's `.env.example` and compose.yaml). */
export const DEV_PORTS: Readonly<Record<EngineProcessName, number>> = {
  applets: 3000,
  'trigger-poller': 3010,
  'trigger-poller-worker': 3011,
  actions: 3012,
  'actions-worker': 3013,
  'partner-sandbox': 3014,
};

const SERVICES: readonly EngineServiceName[] = ['applets', 'trigger-poller', 'actions', 'partner-sandbox'];

/** The repository root (this file is apps/engine-e2e/src/engine-processes.ts). */
export const WORKSPACE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** How a process is started and where its settings come from. */
export interface EngineProcessesOptions {
  /**
   * `bundle`: `node dist/apps/<service>/main.js` (build them first: `nx run-many -t bundle`); `source`:
   * `node --import tsx apps/<service>/src/main.ts`.
   */
  from: 'bundle' | 'source';
  /**
   * `unique` (tests, benchmark): a fresh database per service (`<service>_e2e_<hex>`), one fresh Redis key
   * prefix (`e2e:<hex>:`, holding every service's REDIS_KEY_PREFIX and the shared EVENTS_PREFIX), random
   * tokens and keys, free ports; `stop()` drops the databases and deletes the keys. `dev`: each app's
   * `.env.example` (fixed database names, tokens and prefixes) on {@link DEV_PORTS}; nothing is removed.
   */
  isolation: 'unique' | 'dev';
  /** Extra settings per service, over the defaults (e.g. short retry delays for tests). */
  env?: Partial<Record<EngineServiceName, Record<string, string>>>;
  /** Ports per process; default: {@link DEV_PORTS} for `dev`, free ports for `unique`. */
  ports?: Partial<Record<EngineProcessName, number>>;
  /** `files` (default): each process' output into its own file under `logDir`; `console`: prefixed lines on stdout. */
  output?: 'files' | 'console';
  /** LOG_LEVEL of every process in `unique` isolation (default `info`). */
  logLevel?: string;
  /** The processes to start (default: all six). */
  processes?: EngineProcessName[];
}

/** One running (or ended) engine process. */
export interface EngineProcess {
  name: EngineProcessName;
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The output file (`output: 'files'`). */
  logFile?: string;
  /** Resolves with the exit code, or the signal name, when the process ends. */
  exited: Promise<number | string>;
  running(): boolean;
}

/**
 * The engine as separate OS processes on the local Postgres and Redis: what `npm run e2e`, `npm run engine`
 * and `npm run bench:engine` run. Drive it through `url(name)` and the settings in `env` (admin tokens, the
 * sandbox's service key and control token).
 */
export interface EngineProcesses {
  /** Base URL of a process (`http://127.0.0.1:<port>`). */
  url(name: EngineProcessName): string;
  /** Base URL of a process's metrics listener (`${metricsUrl(name)}/metrics`; not on its API port). */
  metricsUrl(name: EngineProcessName): string;
  /** The settings each service runs with (DATABASE_URL, ADMIN_TOKEN, SERVICE_KEY, CONTROL_TOKEN, ...). */
  env: Readonly<Record<EngineServiceName, Readonly<Record<string, string>>>>;
  /** The current process of that name. */
  process(name: EngineProcessName): EngineProcess;
  /**
   * Starts (another) process of that name, e.g. a replacement for a killed worker, on the same port; resolves
   * once its `/health/ready` answers 200. Throws if one is still running.
   */
  start(name: EngineProcessName): Promise<EngineProcess>;
  /** Sends `signal` (default SIGKILL) to a process; resolves with its exit code or signal once it ended. */
  kill(name: EngineProcessName, signal?: NodeJS.Signals): Promise<number | string>;
  /** Where the output files are (`output: 'files'`). */
  logDir: string;
  /**
   * Stops every process (SIGTERM, SIGKILL after `graceMs`, default 10 s), then in `unique` isolation drops
   * the databases and deletes the Redis keys, and removes the log files unless `keepLogs`. Never throws for
   * one failed step: it does them all, then throws the first error.
   */
  stop(options?: { keepLogs?: boolean; graceMs?: number }): Promise<void>;
}

/**
 * A bounded wait: polls `check` every `everyMs` until it returns true; false after `timeoutMs`, or as soon as
 * `giveUp()` is true.
 */
async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  giveUp: () => boolean,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !giveUp()) {
    if (await check().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

/** A TCP port nothing listens on right now (the OS's choice for port 0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** tsx's loader for `node --import` (one process that gets signals itself, unlike the `tsx` CLI). */
const tsxLoader = (): string => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** node's arguments to run a service's CLI with `args`. */
function nodeArgs(from: 'bundle' | 'source', service: EngineServiceName, args: string[]): string[] {
  return from === 'bundle'
    ? [join(WORKSPACE_ROOT, 'dist/apps', service, 'main.js'), ...args]
    : ['--import', tsxLoader(), join(WORKSPACE_ROOT, 'apps', service, 'src/main.ts'), ...args];
}

/** The last `lines` lines of a process' output file (for error messages). */
function tail(file: string | undefined, lines = 30): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function secret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Databases and Redis keys of a `unique` run, removed by `stop()`. */
interface UniqueResources {
  databases: string[];
  redisPrefix: string;
  /** EVENTS_SECRETS_KEYS, the same for every service of this engine (partner keys sealed inside events). */
  eventsSecretsKeys: string;
}

/** The settings of each service. */
function serviceSettings(
  options: EngineProcessesOptions,
  ports: Record<EngineProcessName, number>,
  resources: UniqueResources | undefined,
): Record<EngineServiceName, Record<string, string>> {
  const url = (name: EngineProcessName): string => `http://127.0.0.1:${ports[name]}`;
  const settings = {} as Record<EngineServiceName, Record<string, string>>;
  for (const service of SERVICES) {
    let env: Record<string, string>;
    if (resources === undefined) {
      const file = join(WORKSPACE_ROOT, 'apps', service, '.env.example');
      env = { ...(parseEnv(readFileSync(file, 'utf8')) as Record<string, string>) };
    } else {
      const database = new URL(TEST_POSTGRES_ADMIN_URL);
      const name = `${service.replaceAll('-', '_')}_e2e_${randomBytes(4).toString('hex')}`;
      database.pathname = `/${name}`;
      resources.databases.push(name);
      env = {
        DATABASE_URL: database.toString(),
        LOG_LEVEL: options.logLevel ?? 'info',
        DATABASE_POOL_MAX: '5',
      };
      if (service === 'partner-sandbox') {
        Object.assign(env, { SERVICE_KEY: `sk_sandbox_${secret(16)}`, CONTROL_TOKEN: secret() });
      } else {
        Object.assign(env, {
          REDIS_URL: testRedisUrl(),
          ADMIN_TOKEN: secret(),
          REDIS_KEY_PREFIX: `${resources.redisPrefix}${service}:`,
          EVENTS_PREFIX: `${resources.redisPrefix}events:`,
          // Partner URLs on 127.0.0.1 over http are allowed in `local` only.
          ENVIRONMENT: 'local',
          SECRETS_KEYS: generateKeyringEntry(service),
          EVENTS_SECRETS_KEYS: resources.eventsSecretsKeys,
        });
      }
      if (service === 'trigger-poller') env.SCHEDULER_ENABLED = 'true';
    }
    if (service === 'partner-sandbox') env.ENGINE_URL = url('trigger-poller');
    if (service === 'actions') env.APPLET_URL_BASE = `${url('applets')}/v1/applets`;
    settings[service] = { ...env, ...options.env?.[service] };
  }
  return settings;
}

/**
 * Runs `main.js migrate --create-database` of a service to the end; rejects with its output's tail when it
 * fails or takes longer than 60 s.
 */
async function migrate(
  options: EngineProcessesOptions,
  service: EngineServiceName,
  env: Record<string, string>,
  logDir: string,
): Promise<void> {
  const logFile = join(logDir, `${service}-migrate.log`);
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, nodeArgs(options.from, service, ['migrate', '--create-database']), {
    cwd: WORKSPACE_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | string>((resolve) =>
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? -1)),
  );
  clearTimeout(timer);
  await new Promise<void>((resolve) => out.end(resolve));
  if (code !== 0) {
    throw new Error(`${service}: migrate --create-database ended with ${code}:\n${tail(logFile)}`);
  }
}

/** Writes a child's output to the console, each line prefixed with its name. */
function prefixLines(child: ChildProcess, name: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${name.padEnd(22)}| ${line}\n`);
    });
  }
}

/**
 * Starts the engine's processes: runs each service's migrations (`migrate --create-database`), then starts
 * every process and waits (at most 60 s) until each answers `GET /health/ready` with 200. On any failure it
 * stops what it started, removes what it created and rethrows (with the failing process' output).
 *
 * @example
 *   const engine = await startEngineProcesses({ from: 'bundle', isolation: 'unique' });
 *   try {
 *     await fetch(`${engine.url('applets')}/health/ready`);
 *   } finally {
 *     await engine.stop();
 *   }
 */
export async function startEngineProcesses(options: EngineProcessesOptions): Promise<EngineProcesses> {
  const names = options.processes ?? (Object.keys(ENGINE_PROCESSES) as EngineProcessName[]);
  const resources: UniqueResources | undefined =
    options.isolation === 'unique'
      ? {
          databases: [],
          redisPrefix: `e2e:${randomBytes(5).toString('hex')}:`,
          eventsSecretsKeys: generateKeyringEntry('engine-events'),
        }
      : undefined;
  const ports = {} as Record<EngineProcessName, number>;
  for (const name of Object.keys(ENGINE_PROCESSES) as EngineProcessName[]) {
    ports[name] = options.ports?.[name] ?? (resources ? await freePort() : DEV_PORTS[name]);
  }
  const env = serviceSettings(options, ports, resources);
  // Each process serves /metrics on a listener of its own (the platform's METRICS_PORT): a free port in
  // `unique` isolation; in `dev`, the app's .env.example one for the web process and the next one for its
  // worker (as `nx serve-worker` does: both read one .env.example), else the platform default.
  const metricsPorts = {} as Record<EngineProcessName, number>;
  for (const name of Object.keys(ENGINE_PROCESSES) as EngineProcessName[]) {
    const { service, command } = ENGINE_PROCESSES[name];
    const configured = Number(env[service].METRICS_PORT ?? DEFAULT_METRICS_PORT);
    metricsPorts[name] = resources ? await freePort() : configured + (command === 'worker' ? 1 : 0);
  }
  const output = options.output ?? 'files';
  const logDir = join(tmpdir(), `ittd-engine-${randomBytes(4).toString('hex')}`);
  mkdirSync(logDir, { recursive: true });

  const current = new Map<EngineProcessName, EngineProcess & { child: ChildProcess }>();
  const starts = new Map<EngineProcessName, number>();
  const streams: WriteStream[] = [];

  /** Kills the whole set synchronously when this process exits without calling stop (a crashed test run). */
  const killAll = (): void => {
    for (const proc of current.values()) if (proc.running()) proc.child.kill('SIGKILL');
  };
  process.on('exit', killAll);

  function launch(name: EngineProcessName, port: number): EngineProcess & { child: ChildProcess } {
    const { service, command } = ENGINE_PROCESSES[name];
    const count = (starts.get(name) ?? 0) + 1;
    starts.set(name, count);
    const child = spawn(process.execPath, nodeArgs(options.from, service, [command]), {
      cwd: WORKSPACE_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...env[service],
        METRICS_PORT: String(metricsPorts[name]),
        PORT: String(port),
        // Loopback only: everything reaches them at 127.0.0.1, and the dev tokens are in the README.
        HOST: '127.0.0.1',
        MIGRATE_ON_START: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: a Ctrl-C (or a signal to the launcher's group) reaches only the launcher,
      // which stops each process with ONE SIGTERM; the services take a second signal as "exit now, no drain".
      detached: true,
    });
    let logFile: string | undefined;
    if (output === 'files') {
      logFile = join(logDir, count === 1 ? `${name}.log` : `${name}-${count}.log`);
      const out = createWriteStream(logFile);
      streams.push(out);
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
    } else {
      prefixLines(child, count === 1 ? name : `${name}#${count}`);
    }
    let ended = false;
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => {
        ended = true;
        resolve(code ?? signal ?? -1);
      }),
    );
    if (child.pid === undefined) throw new Error(`${name}: could not start node`);
    return {
      name,
      pid: child.pid,
      port,
      url: `http://127.0.0.1:${port}`,
      logFile,
      exited,
      running: () => !ended,
      child,
    };
  }

  async function start(name: EngineProcessName): Promise<EngineProcess> {
    if (current.get(name)?.running()) throw new Error(`${name} is still running`);
    for (let attempt = 1; ; attempt++) {
      const proc = launch(name, ports[name]);
      current.set(name, proc);
      const ready = await Promise.race([
        waitFor(
          async () =>
            (await fetch(`${proc.url}/health/ready`, { signal: AbortSignal.timeout(2000) })).status === 200,
          60_000,
          () => !proc.running(),
        ),
        proc.exited.then(() => false),
      ]);
      if (ready && proc.running()) return proc;
      if (proc.running()) proc.child.kill('SIGKILL');
      await proc.exited;
      const log = tail(proc.logFile);
      // A free port taken by someone else between our check and the listen: take another one (unique only).
      if (resources && attempt < 3 && log.includes('EADDRINUSE') && options.ports?.[name] === undefined) {
        ports[name] = await freePort();
        continue;
      }
      throw new Error(
        `${name} did not become ready (exit: ${proc.running() ? 'none' : await proc.exited}):\n${log}`,
      );
    }
  }

  async function stopProcess(proc: EngineProcess & { child: ChildProcess }, graceMs: number): Promise<void> {
    if (!proc.running()) return;
    proc.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      proc.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
  }

  let stopped = false;
  async function stop(stopOptions: { keepLogs?: boolean; graceMs?: number } = {}): Promise<void> {
    if (stopped) return;
    stopped = true;
    const errors: unknown[] = [];
    const graceMs = stopOptions.graceMs ?? 10_000;
    // Workers first (they hold jobs and consumer groups), then the web processes.
    const procs = [...current.values()];
    await Promise.all(procs.filter((p) => p.name.endsWith('-worker')).map((p) => stopProcess(p, graceMs)));
    await Promise.all(procs.map((p) => stopProcess(p, graceMs)));
    process.off('exit', killAll);
    await Promise.all(streams.map((stream) => new Promise<void>((resolve) => stream.end(resolve))));
    if (resources) {
      for (const name of resources.databases) {
        await withAdminClient((client) =>
          client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
        ).catch((error: unknown) => errors.push(error));
      }
      await deleteKeys(resources.redisPrefix).catch((error: unknown) => errors.push(error));
    }
    if (!stopOptions.keepLogs) rmSync(logDir, { recursive: true, force: true });
    if (errors.length > 0) throw errors[0];
  }

  try {
    await Promise.all(
      SERVICES.filter((service) => names.some((name) => ENGINE_PROCESSES[name].service === service)).map(
        (service) => migrate(options, service, env[service], logDir),
      ),
    );
    await Promise.all(names.map((name) => start(name)));
  } catch (error) {
    await stop({ keepLogs: true, graceMs: 2000 }).catch(() => undefined);
    throw error;
  }

  return {
    url: (name) => `http://127.0.0.1:${ports[name]}`,
    metricsUrl: (name) => `http://127.0.0.1:${metricsPorts[name]}`,
    env,
    process(name) {
      const proc = current.get(name);
      if (!proc) throw new Error(`${name} was not started`);
      return proc;
    },
    start,
    async kill(name, signal = 'SIGKILL') {
      const proc = current.get(name);
      if (!proc) throw new Error(`${name} was not started`);
      if (proc.running()) proc.child.kill(signal);
      return proc.exited;
    },
    logDir,
    stop,
  };
}

/** Deletes every Redis key under `prefix` (SCAN + DEL, bounded by the keys there are). */
async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
