import { summarizeRound } from '../../scripts/bench/e2e-bench';

describe('end-to-end benchmark figures', () => {
  it('reports events never notified as missing, split by whether they were accepted', () => {
    const round = summarizeRound({ sent: 4, acceptedIds: new Set(['a', 'b', 'c']), latencies: [10, 20], neverNotified: ['c', 'd'] });
    expect(round).toMatchObject({ sent: 4, accepted: 3, received: 2, missing: 2, missingAccepted: 1 });
  });

  it('keeps a missing event in the percentiles as one that never arrived', () => {
    const latencies = Array.from({ length: 98 }, (_, index) => index + 1);
    const round = summarizeRound({ sent: 100, acceptedIds: new Set(), latencies, neverNotified: ['x', 'y'] });
    expect(round.p50Ms).toBe(50);
    expect(round.p99Ms).toBe(Number.POSITIVE_INFINITY);
    expect(round.maxMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('takes the maximum of 150,000 latencies without overflowing the stack', () => {
    const latencies = Array.from({ length: 150_000 }, (_, index) => index % 997);
    expect(summarizeRound({ sent: 150_000, acceptedIds: new Set(), latencies, neverNotified: [] }).maxMs).toBe(996);
  });
});
