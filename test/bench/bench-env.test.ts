import { benchParts } from '../../scripts/bench/bench-env';

describe('BENCH_ONLY', () => {
  it('runs every part when unset or empty', () => {
    expect([...benchParts(undefined)]).toEqual(['receiver', 'processor', 'e2e']);
    expect([...benchParts(' ')]).toEqual(['receiver', 'processor', 'e2e']);
  });

  it('runs the parts it lists', () => {
    expect([...benchParts('e2e')]).toEqual(['e2e']);
    expect([...benchParts('receiver, e2e')]).toEqual(['receiver', 'e2e']);
  });

  it('refuses a part it does not know, naming it', () => {
    expect(() => benchParts('e2e,soak')).toThrow(/BENCH_ONLY names soak/);
  });
});
