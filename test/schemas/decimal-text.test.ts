import { toDecimalText } from '../../schemas/decimal-text';

describe('decimal text of JSON numbers', () => {
  it.each([
    ['0.001', '0.001'],
    ['100.0', '100.0'],
    ['0.123456789012345678', '0.123456789012345678'],
    ['1e-7', '0.0000001'],
    ['1E+3', '1000'],
    ['2.5e2', '250'],
    ['12345678901234567890.123456789012345678', '12345678901234567890.123456789012345678'],
    ['0', '0'],
    ['-0', '0'],
  ])('keeps %s exactly as %s', (input, expected) => {
    expect(toDecimalText(input)).toBe(expected);
  });

  it.each([['-1'], ['-0.5'], ['1e400'], ['123456789012345678901'], ['0.1234567890123456789'], ['1e-19'], ['abc'], ['']])(
    'refuses %s (negative, or does not fit numeric(38,18))',
    (input) => {
      expect(toDecimalText(input)).toBeUndefined();
    },
  );
});
