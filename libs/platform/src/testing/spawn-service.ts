import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** A service running in a child process (through `tsx`), with its output collected. */
export interface SpawnedProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text` (e.g. a log message); rejects after `timeoutMs` or on exit. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or the signal name) once the process ended; rejects after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | string>;
}

/**
 * tsx's loader, given to Node with `--import`: the service is then ONE process that gets signals itself. The
 * `tsx` CLI would run it as a child of its own and relay signals, and under load its relay answered SIGTERM
 * with exit 143 before the service's handler ran.
 */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs a TypeScript entry point (e.g. a test fixture calling `runService`) as a real process, so tests can
 * send signals and read exit codes and stderr.
 *
 * @example
 * const proc = spawnTsx('test/fixtures/service-main.ts', ['serve'], { PORT: '0' });
 * await proc.waitForOutput('http server listening');
 * proc.child.kill('SIGTERM');
 * expect(await proc.exited()).toBe(0);
 */
export function spawnTsx(
  entry: string,
  args: string[] = [],
  env: Record<string, string> = {},
): SpawnedProcess {
  const child = spawn(process.execPath, ['--import', tsxLoader, entry, ...args], {
    // METRICS_PORT 0: the metrics listener of every spawned service takes a free port, never the shared 9464.
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(text, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`no "${text}" within ${timeoutMs} ms; stderr: ${err}`)),
          timeoutMs,
        );
        const onData = (): void => {
          if (out.includes(text)) finish();
        };
        const onExit = (): void => finish(new Error(`exited before "${text}"; stderr: ${err}`));
        function finish(error?: Error): void {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          child.off('exit', onExit);
          if (error) reject(error);
          else resolve();
        }
        child.stdout.on('data', onData);
        child.once('exit', onExit);
        onData();
      });
    },
    exited(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms`)), timeoutMs);
      });
      return Promise.race([exit, timeout]).finally(() => clearTimeout(timer));
    },
  };
}
