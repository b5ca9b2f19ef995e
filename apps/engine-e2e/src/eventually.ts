/**
 * Polls `condition` every `everyMs` (default 50) until it returns a value other than `undefined`/`false`
 * and resolves with it; rejects after `timeoutMs` (default 20 s) naming `what`. A bounded wait for something
 * another process does; never a timed assertion.
 *
 * @example
 *   const records = await eventually('the action call', async () => ((await list()).length > 0 ? list() : undefined));
 */
export async function eventually<T>(
  what: string,
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
