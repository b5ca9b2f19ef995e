import type { Registry } from 'prom-client';

/**
 * Polls `condition` every 20 ms until it holds; throws after `timeoutMs` naming `what`. Bounded in time and
 * count, for things that happen asynchronously (an event relayed and handled), never to assert speed.
 *
 * @example
 *   await waitFor('the run recorded', async () => (await rows()).length === 1);
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * How many events of `topic` the subscription handled and acknowledged (`events_delivered_total`).
 *
 * @example
 *   await waitFor('3 runs handled', async () => (await deliveredCount(service.metrics, 'action-run.finished', 'applets')) >= 3);
 */
export async function deliveredCount(
  registry: Registry,
  topic: string,
  subscription: string,
): Promise<number> {
  const metric = registry.getSingleMetric('events_delivered_total');
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values
    .filter((value) => value.labels.topic === topic && value.labels.subscription === subscription)
    .reduce((sum, value) => sum + value.value, 0);
}
