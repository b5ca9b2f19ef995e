/**
 * Polls `condition` every `everyMs` (default 25) until it returns a value other than `undefined`/`false`,
 * and resolves with it; rejects after `timeoutMs` (default 20 s) naming `what`. A bounded wait for something
 * that happens asynchronously (an event relayed and handled, another process's work); never a timed
 * assertion.
 *
 * @example
 *   const call = await eventually('the action call', () => partner.actions.calls[0]);
 */
export async function eventually<T>(
  what: string,
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * {@link eventually} for a yes/no condition: resolves once `condition` holds; rejects after `timeoutMs`
 * (default 15 s) naming `what`.
 *
 * @example
 *   await waitFor('the run recorded', async () => (await rows()).length === 1);
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  await eventually(what, async () => (await condition()) || undefined, timeoutMs);
}
