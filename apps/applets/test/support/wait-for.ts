import type { Registry } from 'prom-client';

export { waitFor } from '@ittd/platform/testing';

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
