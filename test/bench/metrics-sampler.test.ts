import { collectDefaultMetrics, Registry } from 'prom-client';
import { LOOP_DELAY_P99_METRIC, metricValue, RSS_METRIC, trendsPerMinute } from '../../scripts/bench/metrics-sampler';

describe('scraping the services’ metrics', () => {
  it("finds RSS and event-loop delay p99 under the names prom-client's default metrics use", async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const text = await registry.metrics();
    const rss = metricValue(text, RSS_METRIC);
    expect(rss).not.toBeNull();
    expect(Math.abs(rss! - process.memoryUsage().rss)).toBeLessThan(64 * 2 ** 20);
    expect(metricValue(text, LOOP_DELAY_P99_METRIC)).toBeGreaterThan(0);
  });

  it('reads an unlabelled sample, not one whose name only starts the same', () => {
    const text = ['# HELP x_total a counter', 'x_total_created 5', 'x_total 7 1700000000', 'x_totals 9'].join('\n');
    expect(metricValue(text, 'x_total')).toBe(7);
    expect(metricValue(text, 'y')).toBeNull();
  });

  it('gives growth per minute from one sample a second', () => {
    const samples = Array.from({ length: 120 }, (_, second) => ({ rssMiB: 100 + second * 0.5, loopDelayP99Ms: second % 2 === 0 ? null : 12 }));
    const trends = trendsPerMinute(samples);
    expect(trends.rssMiBPerMinute).toBeCloseTo(30, 9);
    expect(trends.loopDelayMsPerMinute).toBeCloseTo(0, 9);
  });
});
