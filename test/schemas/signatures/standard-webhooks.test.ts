import { createHmac } from 'node:crypto';
import { signStandardWebhook, standardWebhookKey, verifyStandardWebhook } from '../../../schemas/signatures';

// The published test vector of the Standard Webhooks reference libraries.
const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: Buffer.from('{"test": 2432232314}'),
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const headers = (signature: string, timestamp = vector.timestamp) => ({ id: vector.id, timestamp: String(timestamp), signature });

describe('Standard Webhooks signature', () => {
  it('signs the published test vector', () => {
    expect(signStandardWebhook(vector.id, vector.timestamp, vector.body, vector.secret)).toBe(vector.signature);
  });

  it('accepts the published test vector within the tolerance', () => {
    expect(verifyStandardWebhook(headers(vector.signature), vector.body, [vector.secret], vector.timestamp + 299)).toEqual({ ok: true, secret: 0 });
  });

  it('rejects a timestamp too old', () => {
    expect(verifyStandardWebhook(headers(vector.signature), vector.body, [vector.secret], vector.timestamp + 301)).toEqual({
      ok: false,
      reason: 'timestamp_too_old',
    });
  });

  it('rejects a timestamp too new', () => {
    expect(verifyStandardWebhook(headers(vector.signature), vector.body, [vector.secret], vector.timestamp - 301)).toEqual({
      ok: false,
      reason: 'timestamp_too_new',
    });
  });

  it('accepts a header with several signatures when one matches', () => {
    const other = signStandardWebhook(vector.id, vector.timestamp, vector.body, 'whsec_' + Buffer.from('other key').toString('base64'));
    const verdict = verifyStandardWebhook(headers(`${other} v1,Zm9v ${vector.signature}`), vector.body, [vector.secret], vector.timestamp);
    expect(verdict).toEqual({ ok: true, secret: 0 });
  });

  it('rejects a tampered body', () => {
    const verdict = verifyStandardWebhook(headers(vector.signature), Buffer.from('{"test": 2432232315}'), [vector.secret], vector.timestamp);
    expect(verdict).toEqual({ ok: false, reason: 'no_match' });
  });

  it('rejects signatures of another version', () => {
    const verdict = verifyStandardWebhook(headers(vector.signature.replace('v1,', 'v2,')), vector.body, [vector.secret], vector.timestamp);
    expect(verdict).toEqual({ ok: false, reason: 'malformed' });
  });

  it('uses a secret without the whsec_ prefix as its UTF-8 bytes', () => {
    const plain = 'plain-secret-0123456789abcdef0123';
    const signature = signStandardWebhook('msg_1', vector.timestamp, vector.body, plain);
    expect(verifyStandardWebhook({ id: 'msg_1', timestamp: String(vector.timestamp), signature }, vector.body, [plain], vector.timestamp)).toEqual({ ok: true, secret: 0 });
  });

  // Signatures made without the library: an attacker's HMAC under the key a lenient decoder would read.
  const forged = (key: Buffer, id = 'msg_forged') =>
    `v1,${createHmac('sha256', key).update(`${id}.${vector.timestamp}.`).update(vector.body).digest('base64')}`;

  it.each([
    ['characters outside the alphabet', 'whsec_!!!!!!!!'],
    ['padding only', 'whsec_===='],
    ['nothing after the prefix', 'whsec_'],
  ])('refuses a signature forged with an empty key when the whsec_ secret has %s', (_name, secret) => {
    const verdict = verifyStandardWebhook({ id: 'msg_forged', timestamp: String(vector.timestamp), signature: forged(Buffer.alloc(0)) }, vector.body, [secret], vector.timestamp);
    expect(verdict).toEqual({ ok: false, reason: 'no_match' });
  });

  it('refuses a signature forged with the partial key a lenient decoder reads from a malformed whsec_ secret', () => {
    // 'QUJD RA==' is 'ABCD' to a decoder that skips the space; a real key never has one.
    const verdict = verifyStandardWebhook({ id: 'msg_forged', timestamp: String(vector.timestamp), signature: forged(Buffer.from('ABCD')) }, vector.body, ['whsec_QUJD RA=='], vector.timestamp);
    expect(verdict).toEqual({ ok: false, reason: 'no_match' });
  });

  it('still accepts a signature under a valid secret listed beside a malformed one', () => {
    const verdict = verifyStandardWebhook(headers(vector.signature), vector.body, ['whsec_not base64!', vector.secret], vector.timestamp);
    expect(verdict).toEqual({ ok: true, secret: 1 });
  });

  it.each([
    ['unpadded', 'whsec_QUJDRA'],
    ['padded in the middle', 'whsec_QUJDRA==QUJD'],
    ['with whitespace', 'whsec_QUJD RA=='],
    ['with non-zero bits after the last byte', 'whsec_QUJDRB=='],
    ['with URL-safe characters', 'whsec_QUJD-_Q='],
    ['empty', 'whsec_'],
  ])('has no key for a whsec_ secret %s', (_name, secret) => {
    expect(standardWebhookKey(secret)).toBeUndefined();
  });

  it('decodes a whsec_ secret in standard padded base64 to its bytes, and any other secret to its UTF-8 bytes', () => {
    expect(standardWebhookKey('whsec_QUJDRA==')).toEqual(Buffer.from('ABCD'));
    expect(standardWebhookKey(vector.secret)).toHaveLength(24);
    expect(standardWebhookKey('plain secret')).toEqual(Buffer.from('plain secret', 'utf8'));
  });

  it('refuses to sign with a whsec_ secret that is not valid base64', () => {
    expect(() => signStandardWebhook('msg_1', vector.timestamp, vector.body, 'whsec_QUJD RA==')).toThrow(RangeError);
  });

  describe('webhook-id', () => {
    const key = standardWebhookKey(vector.secret)!;
    const signedWith = (id: string) => ({ id, timestamp: String(vector.timestamp), signature: forged(key, id) });

    it.each([
      ['a space', 'msg 1'],
      ['a tab', 'msg\t1'],
      ['a control character', 'msg\u00011'],
      ['DEL', 'msg\u007f'],
      ['a Latin-1 byte as node:http reads it', 'msg_\u00e9'],
      ['a character beyond Latin-1', 'msg_\u4e00'],
      ['257 characters', `msg_${'a'.repeat(253)}`],
      ['nothing', ''],
    ])('is malformed with %s, even when the signature covers it', (_name, id) => {
      expect(verifyStandardWebhook(signedWith(id), vector.body, [vector.secret], vector.timestamp)).toEqual({ ok: false, reason: 'malformed' });
    });

    it.each([
      ['256 characters', `msg_${'a'.repeat(252)}`],
      ['every printable ASCII character', Array.from({ length: 0x7e - 0x21 + 1 }, (_, index) => String.fromCharCode(0x21 + index)).join('')],
    ])('is accepted with %s', (_name, id) => {
      expect(verifyStandardWebhook(signedWith(id), vector.body, [vector.secret], vector.timestamp)).toEqual({ ok: true, secret: 0 });
    });
  });
});
