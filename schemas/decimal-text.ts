/**
 * Amounts are money: they travel as the exact decimal text of the JSON number, never as a
 * double (0.123456789012345678 does not survive a double). They are stored as numeric(38,18).
 */
export const MAX_INTEGER_DIGITS = 20;
export const MAX_FRACTION_DIGITS = 18;

const JSON_NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The JSON number text in plain decimal notation (`1e-7` → `0.0000001`, Python writes small
 * floats that way), or undefined when it is negative or does not fit numeric(38,18).
 * Trailing fraction zeros are kept up to the 18th decimal: `100.0` stays `100.0`.
 */
export function toDecimalText(numberText: string): string | undefined {
  const match = JSON_NUMBER.exec(numberText);
  if (!match) return undefined;
  const [, sign, integerPart = '', fractionPart = '', exponentText] = match;
  let digits = integerPart + fractionPart;
  let pointAt = integerPart.length + (exponentText ? Number(exponentText) : 0);
  if (!Number.isSafeInteger(pointAt) || Math.abs(pointAt) > 1000) return undefined;
  if (pointAt < 0) {
    digits = '0'.repeat(-pointAt) + digits;
    pointAt = 0;
  } else if (pointAt > digits.length) {
    digits = digits + '0'.repeat(pointAt - digits.length);
  }
  const integer = digits.slice(0, pointAt).replace(/^0+(?=\d)/, '') || '0';
  let fraction = digits.slice(pointAt);
  if (exponentText) fraction = fraction.replace(/0+$/, '');
  // Zeros past the 18th decimal do not change the amount, so `1.0000000000000000000` fits
  // numeric(38,18) exactly; any other digit there would be rounded away, and is refused.
  if (fraction.length > MAX_FRACTION_DIGITS && /^0+$/.test(fraction.slice(MAX_FRACTION_DIGITS))) fraction = fraction.slice(0, MAX_FRACTION_DIGITS);
  if (sign === '-' && !/^0*$/.test(integer + fraction)) return undefined;
  if (integer.length > MAX_INTEGER_DIGITS || fraction.length > MAX_FRACTION_DIGITS) return undefined;
  return fraction ? `${integer}.${fraction}` : integer;
}
