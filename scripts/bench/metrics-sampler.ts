import { slope } from './stats';

/** prom-client's default metrics that the services export. */
export const RSS_METRIC = 'process_resident_memory_bytes';
/** Read from a histogram that prom-client resets at each scrape: at one scrape a second, the p99 of that second. */
export const LOOP_DELAY_P99_METRIC = 'nodejs_eventloop_lag_p99_seconds';

/** One scrape of a service; null where it did not answer or lacked the metric. */
export interface ProcessSample {
  rssMiB: number | null;
  loopDelayP99Ms: number | null;
}

/** The value of an unlabelled sample `name` in Prometheus text exposition, or null if absent. */
export function metricValue(text: string, name: string): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(name.length + 1).trim().split(' ')[0]);
    return Number.isFinite(value) ? value : null;
  }
  return null;
}

async function scrape(url: string): Promise<ProcessSample> {
  try {
    const text = await fetch(url, { signal: AbortSignal.timeout(900) }).then((response) => response.text());
    const rss = metricValue(text, RSS_METRIC);
    const delay = metricValue(text, LOOP_DELAY_P99_METRIC);
    return { rssMiB: rss === null ? null : rss / 2 ** 20, loopDelayP99Ms: delay === null ? null : delay * 1000 };
  } catch {
    return { rssMiB: null, loopDelayP99Ms: null };
  }
}

/**
 * Scrapes each service's /metrics once a second from now for `seconds` seconds. The scrape at
 * the start only resets the event-loop histograms; sample k covers second k of the window.
 */
export function startMetricsSampler(urls: Record<string, string>, seconds: number): { stop(): Promise<Record<string, ProcessSample[]>> } {
  const samples: Record<string, ProcessSample[]> = Object.fromEntries(Object.keys(urls).map((name) => [name, []]));
  const pending = new Set<Promise<void>>();
  /** Second -1: the reset at the start, not recorded. */
  const scrapeAll = (second: number): void => {
    for (const [name, url] of Object.entries(urls)) {
      const done = scrape(url).then((sample) => {
        if (second >= 0) samples[name]![second] = sample;
      });
      pending.add(done);
      void done.finally(() => pending.delete(done));
    }
  };
  scrapeAll(-1);
  let second = 0;
  const timer = setInterval(() => {
    scrapeAll(second);
    second += 1;
    if (second >= seconds) clearInterval(timer);
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      // A second whose scrape never came back is a hole: a sample of nulls.
      return Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, Array.from(list, (sample) => sample ?? { rssMiB: null, loopDelayP99Ms: null })]));
    },
  };
}

/** Growth per minute of RSS (MiB) and of event-loop delay p99 (ms), least squares over one sample a second. */
export function trendsPerMinute(samples: readonly ProcessSample[]): { rssMiBPerMinute: number; loopDelayMsPerMinute: number } {
  const minute = (second: number): number => (second + 1) / 60;
  return {
    rssMiBPerMinute: slope(samples.map((sample, second) => [minute(second), sample.rssMiB] as const)),
    loopDelayMsPerMinute: slope(samples.map((sample, second) => [minute(second), sample.loopDelayP99Ms] as const)),
  };
}
