import { largest, percentiles, slope } from '../../scripts/bench/stats';

describe('bench statistics', () => {
  it('takes several percentiles by nearest rank in one pass over the values', () => {
    const values = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(percentiles(values, [1, 50, 99, 100])).toEqual([1, 50, 99, 100]);
    expect(percentiles([3, 1, 2], [50])).toEqual([2]);
  });

  it('sorts numbers as numbers, not as text', () => {
    expect(percentiles([100, 9, 10], [1, 100])).toEqual([9, 100]);
  });

  it('finds the largest of 150,000 values without spreading them into Math.max', () => {
    expect(largest(Array.from({ length: 150_000 }, (_, index) => index))).toBe(149_999);
  });

  it('fits the slope of a line by least squares', () => {
    expect(slope([0, 1, 2, 3].map((x) => [x, 5 + 2 * x] as const))).toBeCloseTo(2, 10);
    expect(slope([[0, 0], [1, 1], [2, 0], [3, 1]])).toBeCloseTo(0.2, 10);
  });

  it('skips samples that are missing and has no slope from fewer than two', () => {
    expect(slope([[0, 1], [1, null], [2, 5]])).toBeCloseTo(2, 10);
    expect(slope([[0, 1], [1, null]])).toBeNaN();
  });
});
