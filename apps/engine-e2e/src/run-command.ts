import { spawn } from 'node:child_process';

/** What a finished command left. */
export interface CommandResult {
  /** The exit code, or the signal name when it was killed (e.g. at its time-out). */
  code: number | string;
  /** stdout and stderr interleaved as they came. */
  output: string;
}

/**
 * Runs a command to its end with a time-out (SIGTERM, then SIGKILL 10 s later) and collects its output;
 * never rejects for a failing command (read `code`).
 *
 * @example
 *   const { code, output } = await runCommand('bash', ['docker/stack.sh', '--detach'], { cwd: root, timeoutMs: 600_000 });
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const term = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs + 10_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code: code ?? signal ?? -1, output });
    });
  });
}
