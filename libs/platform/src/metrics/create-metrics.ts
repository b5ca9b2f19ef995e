import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry } from 'prom-client';

/**
 * A Prometheus registry for one service, with the default process metrics (CPU, memory, event loop lag, GC)
 * and a `service` label on every series. Not prom-client's global registry, so tests can build several
 * services in one process.
 *
 * @example
 * const metrics = createMetricsRegistry('applets');
 * new Counter({ name: 'applets_fired_total', help: 'applets fired', registers: [metrics] });
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
