/**
 * Runs `action` while collecting everything written with console.info/warn/error/log (the Nx logger's
 * channels), so a test can assert on progress lines and messages, and that a secret never appears.
 *
 * @example
 * const { result, output } = await captureConsole(() => deployExecutor(options, context));
 */
export async function captureConsole<T>(action: () => Promise<T>): Promise<{ result: T; output: string }> {
  const lines: string[] = [];
  const channels = ['info', 'warn', 'error', 'log'] as const;
  const originals = channels.map((channel) => console[channel]);
  for (const channel of channels) console[channel] = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    return { result: await action(), output: lines.join('\n') };
  } finally {
    channels.forEach((channel, i) => (console[channel] = originals[i]));
  }
}
