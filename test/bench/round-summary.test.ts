import { createArrivals } from '../../scripts/bench/arrivals';
import { latencyRound, summarizeRound } from '../../scripts/bench/round-summary';

describe('a round summary', () => {
  it('reports events never notified as missing, split by whether they were accepted', () => {
    const round = summarizeRound({ sent: 4, accepted: new Set(['a', 'b', 'c']), latencies: [10, 20], neverNotified: ['c', 'd'] });
    expect(round).toMatchObject({ sent: 4, accepted: 3, received: 2, missing: 2, missingAccepted: 1 });
  });

  it('keeps a missing event in the percentiles as one that never arrived', () => {
    const latencies = Array.from({ length: 98 }, (_, index) => index + 1);
    const round = summarizeRound({ sent: 100, accepted: new Set(), latencies, neverNotified: ['x', 'y'] });
    expect(round.p50Ms).toBe(50);
    expect(round.p99Ms).toBe(Number.POSITIVE_INFINITY);
    expect(round.maxMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes the maximum of 150,000 latencies without overflowing the stack', () => {
    const latencies = Array.from({ length: 150_000 }, (_, index) => index % 997);
    expect(summarizeRound({ sent: 150_000, accepted: new Set(), latencies, neverNotified: [] }).maxMs).toBe(996);
  });

  it('turns arrivals into figures, seconds and CPU per 1,000 delivered events', () => {
    const arrivals = createArrivals(4);
    [0, 500, 1000, 1500].forEach((due, index) => arrivals.schedule(index, due));
    arrivals.arrive(0, 10);
    arrivals.arrive(1, 530);
    arrivals.arrive(2, 1040);
    const round = latencyRound({ arrivals, start: 0, seconds: 2, accepted: new Set([0, 1, 2, 3]), cpuMs: { receiver: 30, broker: null, bench: 3 } });
    expect(round.summary).toMatchObject({ sent: 4, received: 3, missing: 1, missingAccepted: 1, p50Ms: 30 });
    expect(round.series.map((second) => [second.count, second.missing])).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect(round.cpuPerThousand).toEqual({ receiver: 10_000, broker: null, bench: 1000 });
  });
});

describe('arrivals', () => {
  it('counts the first arrival of a scheduled event only', () => {
    const arrivals = createArrivals(3);
    arrivals.schedule(0, 100);
    arrivals.schedule(1, 200);
    arrivals.arrive(0, 150);
    arrivals.arrive(0, 900);
    arrivals.arrive(2, 300);
    arrivals.arrive(7, 300);
    expect(arrivals.received).toBe(1);
    expect(arrivals.latencies()).toEqual([50]);
    expect(arrivals.neverArrived()).toEqual([1]);
  });
});
