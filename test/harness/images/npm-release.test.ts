import { newestOf } from '../../../scripts/harness/images/npm-release';

describe('the newest release of a major version', () => {
  // The npm registry lists a package's versions in the order they were published, not by version.
  it('compares versions by number, not as text', () => {
    expect(newestOf(['24.0.1', '24.11.1', '24.9.0', '24.21.0', '24.2.0'])).toBe('24.21.0');
  });

  it('passes over pre-releases', () => {
    expect(newestOf(['24.1.0', '24.2.0-rc.1'])).toBe('24.1.0');
  });

  it('refuses a list without a release', () => {
    expect(() => newestOf(['25.0.0-rc.1'])).toThrow('no release');
  });
});
