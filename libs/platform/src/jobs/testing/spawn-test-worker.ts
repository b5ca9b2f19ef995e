import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./test-worker-process.ts', import.meta.url));

/** A worker child process (see test-worker-process.ts) and a promise of its exit code. */
export interface TestWorker {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts test-worker-process.ts with `env` and resolves once it printed "ready" (bounded by 20 s). */
export async function spawnTestWorker(env: Record<string, string>): Promise<TestWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready after 20 s: ${stderr}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`worker exited with ${code} before ready: ${stderr}`)));
  });
  return { child, exited };
}
