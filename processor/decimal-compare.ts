/** `50000`, `50000.0` and PostgreSQL's `50000.000000000000000000` are the same amount. */
export function normalizeDecimal(text: string): string {
  const [integer = '0', fraction = ''] = text.split('.');
  const trimmedFraction = fraction.replace(/0+$/, '');
  const trimmedInteger = integer.replace(/^0+(?=\d)/, '');
  return trimmedFraction ? `${trimmedInteger}.${trimmedFraction}` : trimmedInteger;
}
