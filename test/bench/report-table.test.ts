import { verdict } from '../../scripts/bench/report-table';

describe('the bench table', () => {
  it('says whether a figure meets its bound, and nothing when it was not measured', () => {
    expect(verdict(1.9, { atMost: 2 })).toBe('yes');
    expect(verdict(2.1, { atMost: 2 })).toBe('NO');
    expect(verdict(0.69, { atLeast: 0.7 })).toBe('NO');
    expect(verdict(null, { atLeast: 0.7 })).toBe('—');
    expect(verdict(Number.NaN, { atMost: 1.5 })).toBe('—');
  });
});
