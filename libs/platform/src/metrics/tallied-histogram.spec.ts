import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TalliedHistogram } from './tallied-histogram';

/** The exposition of one metric, with prom-client's and ours registered under the same name in two registries. */
async function expositions(values: [string, string, number][]): Promise<{ ours: string; theirs: string }> {
  const buckets = [0.001, 0.01, 0.1, 1];
  const labelNames = ['queue', 'job'] as const;
  const oursRegistry = new Registry();
  const theirsRegistry = new Registry();
  oursRegistry.setDefaultLabels({ service: 's1' });
  theirsRegistry.setDefaultLabels({ service: 's1' });
  const ours = new TalliedHistogram({
    name: 'x_seconds',
    help: 'h',
    labelNames,
    buckets,
    registers: [oursRegistry],
  });
  const theirs = new Histogram({
    name: 'x_seconds',
    help: 'h',
    labelNames,
    buckets,
    registers: [theirsRegistry],
  });
  for (const [queue, job, value] of values) {
    ours.labels(queue, job).observe(value);
    theirs.labels(queue, job).observe(value);
  }
  return { ours: await oursRegistry.metrics(), theirs: await theirsRegistry.metrics() };
}

describe('TalliedHistogram', () => {
  it('is exposed exactly like prom-client Histogram fed the same values (buckets, +Inf, sum, count, labels)', async () => {
    const { ours, theirs } = await expositions([
      ['q1', 'a', 0.0005],
      ['q1', 'a', 0.001], // on a bound: counted in that bucket (le is "less or equal")
      ['q1', 'a', 0.05],
      ['q2', 'b', 3], // above every bound: only +Inf
      ['q1', 'a', 0.2],
    ]);
    expect(ours).toBe(theirs);
    expect(ours).toContain('x_seconds_bucket{le="0.001",service="s1",queue="q1",job="a"} 2');
    expect(ours).toContain('x_seconds_count{service="s1",queue="q2",job="b"} 1');
  });

  it('keeps one series per label values, and getMetricsAsJSON carries every label on the value', async () => {
    const registry = new Registry();
    const h = new TalliedHistogram({
      name: 'y_seconds',
      help: 'h',
      labelNames: ['queue'],
      buckets: [1],
      registers: [registry],
    });
    expect(h.labels('q')).toBe(h.labels('q'));
    h.observe({ queue: 'q' }, 0.5);
    h.labels('q').observe(Number.NaN); // ignored, like a value prom-client would refuse
    const [json] = await registry.getMetricsAsJSON();
    expect(json.values).toContainEqual({
      labels: { le: 1, queue: 'q' },
      value: 1,
      metricName: 'y_seconds_bucket',
    });
    expect(json.values).toContainEqual({ labels: { queue: 'q' }, value: 0.5, metricName: 'y_seconds_sum' });
    expect(() => h.labels('q', 'extra')).toThrow(/expected 1 label values, got 2/);
  });
});
