import { createHmac } from 'node:crypto';
import { parseRelworxHeader, relworxSignatureHeader, relworxTimestampFresh, signRelworx, verifyRelworx } from '../../../schemas/signatures';

const url = 'https://exchange.example/api/v1/webhooks/relworx';
const secret = 'relworx-secret-0123456789abcdef0123';
const fields = { customer_reference: 'TRADE-42', internal_reference: 'RWX-9001', status: 'success' };
const t = 1764201600;

describe('Relworx signature', () => {
  it('signs the callback URL, the timestamp and the sorted key-value pairs, with no separators', () => {
    const expected = createHmac('sha256', secret)
      .update('https://exchange.example/api/v1/webhooks/relworx1764201600customer_referenceTRADE-42internal_referenceRWX-9001statussuccess')
      .digest('hex');
    expect(signRelworx(url, t, fields, secret)).toBe(expected);
  });

  it('accepts its own header', () => {
    const header = parseRelworxHeader(relworxSignatureHeader(t, signRelworx(url, t, fields, secret)))!;
    expect(verifyRelworx(url, header, fields, [secret])).toEqual({ secret: 0 });
  });

  it('names the position of the rotated secret that signed', () => {
    const header = parseRelworxHeader(relworxSignatureHeader(t, signRelworx(url, t, fields, secret)))!;
    expect(verifyRelworx(url, header, fields, ['relworx-next-secret-0123456789abcdef', secret])).toEqual({ secret: 1 });
  });

  it('rejects a tampered status', () => {
    const header = parseRelworxHeader(relworxSignatureHeader(t, signRelworx(url, t, fields, secret)))!;
    expect(verifyRelworx(url, header, { ...fields, status: 'failed' }, [secret])).toBeUndefined();
  });

  it('rejects a signature made for another callback URL', () => {
    const header = parseRelworxHeader(relworxSignatureHeader(t, signRelworx('https://evil.example/cb', t, fields, secret)))!;
    expect(verifyRelworx(url, header, fields, [secret])).toBeUndefined();
  });

  it('checks the timestamp within 300 seconds', () => {
    const header = parseRelworxHeader(relworxSignatureHeader(t, 'a'.repeat(64)))!;
    expect(relworxTimestampFresh(header, t + 300)).toBe(true);
    expect(relworxTimestampFresh(header, t + 301)).toBe(false);
    expect(relworxTimestampFresh(header, t - 301)).toBe(false);
  });

  it('refuses malformed headers', () => {
    expect(parseRelworxHeader('')).toBeUndefined();
    expect(parseRelworxHeader(`t=${t}`)).toBeUndefined();
    expect(parseRelworxHeader(`t=abc,v=${'a'.repeat(64)}`)).toBeUndefined();
    expect(parseRelworxHeader(`t=${t},v=${'a'.repeat(63)}`)).toBeUndefined();
    expect(parseRelworxHeader(`t=${t},v=${'a'.repeat(64)},x=1`)).toBeUndefined();
  });
});
