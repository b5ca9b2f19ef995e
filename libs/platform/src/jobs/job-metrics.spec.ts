import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { JobMetrics } from './job-metrics';

describe('JobMetrics tallied series', () => {
  it('a scrape adds the pending counts first, so scraped values are exact before the deferred flush', async () => {
    const registry = new Registry();
    const metrics = JobMetrics.for(registry);
    const series = metrics.series('q1', 'noop');
    expect(metrics.series('q1', 'noop')).toBe(series);
    series.started += 3;
    series.completed += 2;
    series.failed += 1;
    metrics.touch(series);

    // No await before the scrape: the setImmediate flush has not run yet.
    const text = await registry.metrics();
    expect(text).toContain('jobs_started_total{queue="q1",job="noop"} 3');
    expect(text).toContain('jobs_completed_total{queue="q1",job="noop"} 2');
    expect(text).toContain('jobs_failed_total{queue="q1",job="noop"} 1');

    // The deferred flush then finds nothing pending: nothing is counted twice.
    await new Promise((resolve) => setImmediate(resolve));
    series.completed += 1;
    metrics.touch(series);
    await new Promise((resolve) => setImmediate(resolve));
    const after = await registry.metrics();
    expect(after).toContain('jobs_started_total{queue="q1",job="noop"} 3');
    expect(after).toContain('jobs_completed_total{queue="q1",job="noop"} 3');
  });
});
