import { driftRatio, perSecond } from '../../scripts/bench/series';

describe('per-second series', () => {
  it('buckets events by the second they were due in, from the start', () => {
    const due = Float64Array.from([1000, 1999, 2000, 2500, 3999]);
    const arrived = Float64Array.from([1010, 2019, 2100, 2540, 4009]);
    const seconds = perSecond({ due, arrived, start: 1000, seconds: 3 });
    expect(seconds.map((second) => second.count)).toEqual([2, 2, 1]);
    expect(seconds[0]).toMatchObject({ second: 0, p50Ms: 10, p99Ms: 20, maxMs: 20, missing: 0 });
    expect(seconds[1]).toMatchObject({ p50Ms: 40, p90Ms: 100, maxMs: 100 });
  });

  it('counts an event that never arrived as missing and as never arriving in the percentiles', () => {
    const seconds = perSecond({ due: Float64Array.from([0, 100]), arrived: Float64Array.from([5, Number.NaN]), start: 0, seconds: 1 });
    expect(seconds[0]).toMatchObject({ count: 1, missing: 1, p50Ms: 5, p99Ms: Number.POSITIVE_INFINITY });
  });

  it('leaves out events due outside the window and gives an empty second no percentiles', () => {
    const seconds = perSecond({ due: Float64Array.from([-5, 2500, Number.NaN]), arrived: Float64Array.from([1, 2510, Number.NaN]), start: 0, seconds: 2 });
    expect(seconds.map((second) => second.count)).toEqual([0, 0]);
    expect(seconds[0]!.p50Ms).toBeNaN();
  });
});

describe('drift', () => {
  it('compares the median p50 of the last 10 seconds with that of the first 10', () => {
    const p50s = [...Array.from({ length: 10 }, () => 20), ...Array.from({ length: 40 }, () => 25), ...Array.from({ length: 10 }, () => 30)];
    expect(driftRatio(p50s)).toBe(1.5);
  });

  it('compares the halves of a round shorter than 20 seconds', () => {
    expect(driftRatio([10, 10, 10, 40, 40, 40, 40])).toBe(4);
  });

  it('has no figure for a round under two seconds', () => {
    expect(driftRatio([10])).toBeNaN();
  });
});
