import { signStandardWebhook, verifyStandardWebhook } from '../../../schemas/signatures';

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
    expect(verifyStandardWebhook(headers(vector.signature), vector.body, [vector.secret], vector.timestamp + 299)).toEqual({ ok: true });
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
    expect(verdict).toEqual({ ok: true });
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
    expect(verifyStandardWebhook({ id: 'msg_1', timestamp: String(vector.timestamp), signature }, vector.body, [plain], vector.timestamp)).toEqual({ ok: true });
  });
});
