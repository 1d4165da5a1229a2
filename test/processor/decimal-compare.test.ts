import { normalizeDecimal } from '../../processor/decimal-compare';

describe('normalizeDecimal', () => {
  it.each([
    ['a whole number as it is', '50000', '50000'],
    ['a fraction of zeros away', '50000.0', '50000'],
    ['the 18 fraction zeros of numeric(38,18) away', '50000.000000000000000000', '50000'],
    ['trailing fraction zeros away, the significant digits kept', '0.001000000000000000', '0.001'],
    ['leading integer zeros away', '00012.50', '12.5'],
    ['zero with a fraction of zeros as 0', '0.000', '0'],
    ['a run of zeros as 0', '000', '0'],
    ['the zeros that end the integer part', '100', '100'],
    ['the zero before the point of a fraction', '0.5', '0.5'],
    ['every digit of an amount a double cannot hold', '123456789012345678901.123456789012345678', '123456789012345678901.123456789012345678'],
  ])('writes %s', (_name, text, expected) => {
    expect(normalizeDecimal(text)).toBe(expected);
  });

  it.each([
    ['50000', '50000.000000000000000000', true],
    ['0.1', '0.10', true],
    ['0.1', '0.01', false],
    ['10', '1', false],
    ['1.000000000000000001', '1', false],
  ])('compares %s and %s as the same amount: %s', (left, right, same) => {
    expect(normalizeDecimal(left) === normalizeDecimal(right)).toBe(same);
  });
});
