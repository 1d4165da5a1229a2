import { execFileSync } from 'node:child_process';
import { signPayload, verifyPayloadSignature } from '../../../schemas/signatures';

const secret = 'buy-secret-0123456789abcdef0123456789';
const body = Buffer.from('{"trade_id": 123, "status": "completed", "crypto_amount": 0.001}');

/** The expected value by another route than the code under test: WebCrypto. */
async function webCryptoHex(key: string, data: Buffer): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey('raw', Buffer.from(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return Buffer.from(await crypto.subtle.sign('HMAC', cryptoKey, data)).toString('hex');
}

describe('per-type HMAC signature', () => {
  it('signs as lowercase hex HMAC-SHA256 of the raw bytes, matching WebCrypto and openssl', async () => {
    const signature = signPayload(body, secret);
    expect(signature).toBe(await webCryptoHex(secret, body));
    const openssl = execFileSync('openssl', ['dgst', '-sha256', '-hmac', secret, '-r'], { input: body }).toString().split(' ')[0];
    expect(signature).toBe(openssl);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts the signature of the exact bytes', async () => {
    expect(verifyPayloadSignature(body, await webCryptoHex(secret, body), [secret])).toEqual({ secret: 0 });
  });

  it('rejects a body signed with the wrong secret', async () => {
    expect(verifyPayloadSignature(body, await webCryptoHex('another-secret', body), [secret])).toBeUndefined();
  });

  it('rejects the signature of a re-serialized body', async () => {
    const compact = Buffer.from(JSON.stringify(JSON.parse(body.toString())));
    expect(verifyPayloadSignature(body, await webCryptoHex(secret, compact), [secret])).toBeUndefined();
  });

  it('rejects a truncated signature', async () => {
    expect(verifyPayloadSignature(body, (await webCryptoHex(secret, body)).slice(0, 63), [secret])).toBeUndefined();
  });

  it('rejects an empty or non-hex signature', () => {
    expect(verifyPayloadSignature(body, '', [secret])).toBeUndefined();
    expect(verifyPayloadSignature(body, 'z'.repeat(64), [secret])).toBeUndefined();
  });

  it('accepts uppercase hex: it encodes the same bytes', async () => {
    expect(verifyPayloadSignature(body, (await webCryptoHex(secret, body)).toUpperCase(), [secret])).toEqual({ secret: 0 });
  });

  it('tolerates a sha256= prefix', async () => {
    expect(verifyPayloadSignature(body, `sha256=${await webCryptoHex(secret, body)}`, [secret])).toEqual({ secret: 0 });
  });

  it('accepts any of the rotated secrets, naming the position of the one that signed', async () => {
    const next = 'next-secret-0123456789abcdef0123456789';
    expect(verifyPayloadSignature(body, await webCryptoHex(next, body), [secret, next])).toEqual({ secret: 1 });
    expect(verifyPayloadSignature(body, await webCryptoHex(secret, body), [secret, next])).toEqual({ secret: 0 });
  });
});
