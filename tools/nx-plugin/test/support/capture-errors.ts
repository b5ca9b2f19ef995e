/**
 * Runs `action` while collecting what it logs with console.error (the Nx logger's error channel), so a
 * test can assert on an executor's message.
 *
 * @example
 * const { result, errors } = await captureErrors(() => marathonExecutor(options, context));
 */
export async function captureErrors<T>(action: () => Promise<T>): Promise<{ result: T; errors: string }> {
  const messages: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => messages.push(args.join(' '));
  try {
    return { result: await action(), errors: messages.join('\n') };
  } finally {
    console.error = original;
  }
}
