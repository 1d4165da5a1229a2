import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { parse as losslessParse } from 'lossless-json';
import { repeatedHeader, verifyRequest, type Verification } from '../../receiver/verify-request';
import { webhookByType, type WebhookType } from '../../schemas/webhook-catalog';

// The real exact-number parser, counted: it is the expensive step an unsigned request must not reach.
jest.mock('lossless-json', () => {
  const actual = jest.requireActual<typeof import('lossless-json')>('lossless-json');
  return { ...actual, parse: jest.fn(actual.parse) };
});
const losslessParses = losslessParse as jest.MockedFunction<typeof losslessParse>;

// Every signature here is computed with node:crypto from the documented formats, not with
// the project's signing functions.
const NOW = 1_760_000_000;
const SECRET = 'type-secret-0123456789abcdef0123456789';
const OTHER_SECRET = 'another-type-secret-0123456789abcdef01';
const WHSEC_KEY = Buffer.alloc(32, 0x5c);
const WHSEC = `whsec_${WHSEC_KEY.toString('base64')}`;
const CALLBACK_URL = 'https://exchange.example/api/v1/webhooks/relworx';

const hexHmac = (key: string | Buffer, text: string | Buffer) => createHmac('sha256', key).update(text).digest('hex');
const standard = (key: string | Buffer, id: string, timestamp: number, body: string) =>
  `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
const relworx = (key: string, timestamp: number, fields: { customer_reference: string; internal_reference: string; status: string }, url = CALLBACK_URL) =>
  `t=${timestamp},v=${hexHmac(key, `${url}${timestamp}customer_reference${fields.customer_reference}internal_reference${fields.internal_reference}status${fields.status}`)}`;

/** Headers as node:http presents them: lower-case names, repeated values joined, and the raw list. */
function incoming(pairs: Array<[string, string]>): { headers: IncomingHttpHeaders; rawHeaders: string[] } {
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
    rawHeaders.push(name, value);
  }
  return { headers, rawHeaders };
}

function verify(type: WebhookType, body: string, pairs: Array<[string, string]>, secrets: readonly string[] = [SECRET]): Verification {
  return verifyRequest({
    definition: webhookByType(type)!,
    ...incoming(pairs),
    body: Buffer.from(body),
    secrets,
    relworxCallbackUrl: CALLBACK_URL,
    nowSeconds: NOW,
  });
}

describe('verifyRequest: the per-type HMAC header', () => {
  const body = '{"trade_id":1,"status":"completed","transaction_hash":"0x1"}';
  const signature = hexHmac(SECRET, body);
  const cases: Array<[string, Array<[string, string]>, readonly string[], Verification]> = [
    ['a signature of the raw body', [['X-Buy-Webhook-Signature', signature]], [SECRET], { ok: true, scheme: 'hmac-sha256', secret: 0 }],
    ['a signature with the sha256= prefix', [['X-Buy-Webhook-Signature', `sha256=${signature}`]], [SECRET], { ok: true, scheme: 'hmac-sha256', secret: 0 }],
    ['a signature in upper-case hex', [['X-Buy-Webhook-Signature', signature.toUpperCase()]], [SECRET], { ok: true, scheme: 'hmac-sha256', secret: 0 }],
    ['a signature under the second of two rotated secrets', [['X-Buy-Webhook-Signature', signature]], [OTHER_SECRET, SECRET], { ok: true, scheme: 'hmac-sha256', secret: 1 }],
    ['a signature under another secret', [['X-Buy-Webhook-Signature', hexHmac(OTHER_SECRET, body)]], [SECRET], { ok: false, reason: 'no_match' }],
    ['no signature header', [], [SECRET], { ok: false, reason: 'missing' }],
    ["another type's header", [['X-Sell-Webhook-Signature', signature]], [SECRET], { ok: false, reason: 'missing' }],
    ['the header given twice', [['X-Buy-Webhook-Signature', signature], ['x-buy-webhook-signature', signature]], [SECRET], { ok: false, reason: 'repeated_signature_header' }],
    ['a signature one hex digit short', [['X-Buy-Webhook-Signature', signature.slice(1)]], [SECRET], { ok: false, reason: 'no_match' }],
    ['a signature that is not hex', [['X-Buy-Webhook-Signature', 'z'.repeat(64)]], [SECRET], { ok: false, reason: 'no_match' }],
    ['a base64 signature', [['X-Buy-Webhook-Signature', createHmac('sha256', SECRET).update(body).digest('base64')]], [SECRET], { ok: false, reason: 'no_match' }],
  ];

  it.each(cases)('%s', (_name, pairs, secrets, expected) => {
    expect(verify('buy_completion', body, pairs, secrets)).toEqual(expected);
  });

  it('checks the bytes as sent, not a re-serialization', () => {
    const python = '{"trade_id": 1, "status": "completed", "transaction_hash": "0x1"}';
    expect(verify('buy_completion', python, [['X-Buy-Webhook-Signature', hexHmac(SECRET, python)]])).toEqual({ ok: true, scheme: 'hmac-sha256', secret: 0 });
    expect(verify('buy_completion', python, [['X-Buy-Webhook-Signature', signature]])).toEqual({ ok: false, reason: 'no_match' });
  });
});

describe('verifyRequest: Standard Webhooks headers', () => {
  const body = '{"trade_id":2,"status":"processing"}';
  const signed = (id: string, timestamp: number, signature: string): Array<[string, string]> => [
    ['webhook-id', id],
    ['webhook-timestamp', String(timestamp)],
    ['webhook-signature', signature],
  ];
  const cases: Array<[string, Array<[string, string]>, readonly string[], Verification]> = [
    ['a signature under a plain secret', signed('msg_1', NOW, standard(SECRET, 'msg_1', NOW, body)), [SECRET], { ok: true, scheme: 'standard-webhooks', secret: 0, webhookId: 'msg_1' }],
    ['a signature under a whsec_ secret (its decoded bytes)', signed('msg_2', NOW, standard(WHSEC_KEY, 'msg_2', NOW, body)), [WHSEC], { ok: true, scheme: 'standard-webhooks', secret: 0, webhookId: 'msg_2' }],
    [
      'several signatures of which one matches',
      signed('msg_3', NOW, `v1,${Buffer.alloc(32).toString('base64')} ${standard(SECRET, 'msg_3', NOW, body)}`),
      [SECRET],
      { ok: true, scheme: 'standard-webhooks', secret: 0, webhookId: 'msg_3' },
    ],
    ['a timestamp 300 s old', signed('msg_4', NOW - 300, standard(SECRET, 'msg_4', NOW - 300, body)), [SECRET], { ok: true, scheme: 'standard-webhooks', secret: 0, webhookId: 'msg_4' }],
    ['a timestamp 301 s old', signed('msg_5', NOW - 301, standard(SECRET, 'msg_5', NOW - 301, body)), [SECRET], { ok: false, reason: 'timestamp_too_old' }],
    ['a timestamp 301 s ahead', signed('msg_6', NOW + 301, standard(SECRET, 'msg_6', NOW + 301, body)), [SECRET], { ok: false, reason: 'timestamp_too_new' }],
    ["a signature under another type's secret", signed('msg_7', NOW, standard(OTHER_SECRET, 'msg_7', NOW, body)), [SECRET], { ok: false, reason: 'no_match' }],
    ['a signature over another id', signed('msg_8', NOW, standard(SECRET, 'msg_other', NOW, body)), [SECRET], { ok: false, reason: 'no_match' }],
    ['a forgery with an empty key against a whsec_ secret that is not base64', signed('msg_9', NOW, standard(Buffer.alloc(0), 'msg_9', NOW, body)), ['whsec_!!!!'], { ok: false, reason: 'no_match' }],
    ['no webhook-id', [['webhook-timestamp', String(NOW)], ['webhook-signature', standard(SECRET, '', NOW, body)]], [SECRET], { ok: false, reason: 'malformed' }],
    ['no webhook-timestamp', [['webhook-id', 'msg_10'], ['webhook-signature', standard(SECRET, 'msg_10', NOW, body)]], [SECRET], { ok: false, reason: 'malformed' }],
    ['a timestamp that is not a number', signed('msg_11', NOW, standard(SECRET, 'msg_11', NOW, body)).map(([name, value]) => [name, name === 'webhook-timestamp' ? `${NOW}.0` : value] as [string, string]), [SECRET], { ok: false, reason: 'malformed' }],
    ['only signatures of another version', signed('msg_12', NOW, standard(SECRET, 'msg_12', NOW, body).replace('v1,', 'v2,')), [SECRET], { ok: false, reason: 'malformed' }],
    ['a webhook-id with a space in it, signed as it is', signed('msg 16', NOW, standard(SECRET, 'msg 16', NOW, body)), [SECRET], { ok: false, reason: 'malformed' }],
    ['webhook-id given twice', [...signed('msg_13', NOW, standard(SECRET, 'msg_13', NOW, body)), ['Webhook-Id', 'msg_13']], [SECRET], { ok: false, reason: 'repeated_signature_header' }],
    ['webhook-signature given twice', [...signed('msg_14', NOW, standard(SECRET, 'msg_14', NOW, body)), ['webhook-signature', standard(SECRET, 'msg_14', NOW, body)]], [SECRET], { ok: false, reason: 'repeated_signature_header' }],
    [
      'a bad Standard Webhooks signature beside a good per-type one (the Standard Webhooks headers decide)',
      [...signed('msg_15', NOW, standard(OTHER_SECRET, 'msg_15', NOW, body)), ['x-trade-webhook-signature', hexHmac(SECRET, body)]],
      [SECRET],
      { ok: false, reason: 'no_match' },
    ],
  ];

  it.each(cases)('%s', (_name, pairs, secrets, expected) => {
    expect(verify('trade_status', body, pairs, secrets)).toEqual(expected);
  });
});

describe("verifyRequest: Svix's names for the Standard Webhooks headers", () => {
  const body = '{"trade_id":2,"status":"processing"}';
  const svix = (id: string, timestamp: number, signature: string): Array<[string, string]> => [
    ['svix-id', id],
    ['svix-timestamp', String(timestamp)],
    ['svix-signature', signature],
  ];
  const webhook = (id: string, timestamp: number, signature: string): Array<[string, string]> => [
    ['webhook-id', id],
    ['webhook-timestamp', String(timestamp)],
    ['webhook-signature', signature],
  ];
  const cases: Array<[string, Array<[string, string]>, readonly string[], Verification]> = [
    ['a signature under a whsec_ secret', svix('msg_s1', NOW, standard(WHSEC_KEY, 'msg_s1', NOW, body)), [WHSEC], { ok: true, scheme: 'standard-webhooks', secret: 0, webhookId: 'msg_s1' }],
    ['a signature under the second of two rotated secrets', svix('msg_s2', NOW, standard(SECRET, 'msg_s2', NOW, body)), [OTHER_SECRET, SECRET], { ok: true, scheme: 'standard-webhooks', secret: 1, webhookId: 'msg_s2' }],
    ['a timestamp 301 s old', svix('msg_s3', NOW - 301, standard(SECRET, 'msg_s3', NOW - 301, body)), [SECRET], { ok: false, reason: 'timestamp_too_old' }],
    ['a signature under another secret', svix('msg_s4', NOW, standard(OTHER_SECRET, 'msg_s4', NOW, body)), [SECRET], { ok: false, reason: 'no_match' }],
    ['both sets, each signed: the svix- set is read', [...webhook('msg_w5', NOW, standard(SECRET, 'msg_w5', NOW, body)), ...svix('msg_s5', NOW, standard(SECRET, 'msg_s5', NOW, body))], [SECRET], { ok: true, scheme: 'standard-webhooks', secret: 0, webhookId: 'msg_s5' }],
    ['both sets, the svix- one signed badly: refused though the webhook- one is good', [...webhook('msg_w6', NOW, standard(SECRET, 'msg_w6', NOW, body)), ...svix('msg_s6', NOW, standard(OTHER_SECRET, 'msg_s6', NOW, body))], [SECRET], { ok: false, reason: 'no_match' }],
    ['svix-signature with webhook-id and webhook-timestamp: the sets are never mixed', [['webhook-id', 'msg_7'], ['webhook-timestamp', String(NOW)], ['svix-signature', standard(SECRET, 'msg_7', NOW, body)]], [SECRET], { ok: false, reason: 'malformed' }],
    ['svix-id given twice', [...svix('msg_s8', NOW, standard(SECRET, 'msg_s8', NOW, body)), ['Svix-Id', 'msg_s8']], [SECRET], { ok: false, reason: 'repeated_signature_header' }],
    ['svix-signature given twice', [...svix('msg_s9', NOW, standard(SECRET, 'msg_s9', NOW, body)), ['svix-signature', standard(SECRET, 'msg_s9', NOW, body)]], [SECRET], { ok: false, reason: 'repeated_signature_header' }],
    ['webhook-id given twice beside a good svix- set', [...svix('msg_s10', NOW, standard(SECRET, 'msg_s10', NOW, body)), ['webhook-id', 'a'], ['webhook-id', 'b']], [SECRET], { ok: false, reason: 'repeated_signature_header' }],
  ];

  it.each(cases)('%s', (_name, pairs, secrets, expected) => {
    expect(verify('trade_status', body, pairs, secrets)).toEqual(expected);
  });
});

describe('verifyRequest: Relworx', () => {
  const fields = { customer_reference: 'TRADE-3', internal_reference: 'RWX-3', status: 'success' };
  const body = JSON.stringify({ ...fields, amount: 50000, currency: 'UGX' });
  const header = relworx(SECRET, NOW, fields);
  const parsedOk = (text: string) => ({ ok: true, scheme: 'relworx', secret: 0, parsed: expect.objectContaining(JSON.parse(text) as object) });
  const cases: Array<[string, string, Array<[string, string]>, unknown]> = [
    ['a signature of the URL, timestamp and the three fields', body, [['Relworx-Signature', header]], { ok: true, scheme: 'relworx', secret: 0, parsed: expect.objectContaining(fields) }],
    ['the header with v before t', body, [['Relworx-Signature', header.split(',').reverse().join(',')]], { ok: true, scheme: 'relworx', secret: 0, parsed: expect.objectContaining(fields) }],
    ['an unsigned field changed (the amount is a claim)', JSON.stringify({ ...fields, amount: 1 }), [['Relworx-Signature', header]], { ok: true, scheme: 'relworx', secret: 0, parsed: expect.objectContaining(fields) }],
    ['a signed field changed', JSON.stringify({ ...fields, status: 'failed' }), [['Relworx-Signature', header]], { ok: false, reason: 'no_match' }],
    ['a signature over another callback URL', body, [['Relworx-Signature', relworx(SECRET, NOW, fields, 'http://localhost:8000/api/webhooks/relworx')]], { ok: false, reason: 'no_match' }],
    ['a signature under another secret', body, [['Relworx-Signature', relworx(OTHER_SECRET, NOW, fields)]], { ok: false, reason: 'no_match' }],
    ['a timestamp 301 s old', body, [['Relworx-Signature', relworx(SECRET, NOW - 301, fields)]], { ok: false, reason: 'timestamp_out_of_tolerance' }],
    ['no header', body, [], { ok: false, reason: 'missing' }],
    ['the header given twice', body, [['Relworx-Signature', header], ['relworx-signature', header]], { ok: false, reason: 'repeated_signature_header' }],
    ['a header with an unknown part', body, [['Relworx-Signature', `${header},x=1`]], { ok: false, reason: 'malformed' }],
    // The order of the checks: the header and its timestamp before the body is parsed.
    ['a malformed header on a body that is not JSON', 'not json', [['Relworx-Signature', 'v=abc']], { ok: false, reason: 'malformed' }],
    ['a stale header on a body that is not JSON', 'not json', [['Relworx-Signature', relworx(SECRET, NOW - 301, fields)]], { ok: false, reason: 'timestamp_out_of_tolerance' }],
    ['a fresh header on a body that is not JSON', 'not json', [['Relworx-Signature', header]], { ok: false, reason: 'unreadable_body' }],
    ['a fresh header on a JSON array', '[1]', [['Relworx-Signature', header]], { ok: false, reason: 'unreadable_body' }],
    ['a body without internal_reference', JSON.stringify({ customer_reference: 'TRADE-3', status: 'success' }), [['Relworx-Signature', header]], { ok: false, reason: 'unsigned_fields' }],
    ['a body whose status is not a string', JSON.stringify({ ...fields, status: 1 }), [['Relworx-Signature', header]], { ok: false, reason: 'unsigned_fields' }],
  ];

  it.each(cases)('%s', (_name, text, pairs, expected) => {
    expect(verify('relworx_payment', text, pairs)).toEqual(expected);
  });

  it('names the position of the rotated secret that signed', () => {
    const verification = verify('relworx_payment', body, [['Relworx-Signature', relworx(OTHER_SECRET, NOW, fields)]], [SECRET, OTHER_SECRET]);
    expect(verification).toEqual({ ok: true, scheme: 'relworx', secret: 1, parsed: expect.objectContaining(fields) });
  });

  it('hands back the body it parsed, numbers as their exact text', () => {
    const exact = JSON.stringify({ ...fields, currency: 'UGX' }).replace('}', ',"amount":50000.000000000000000001}');
    const verification = verify('relworx_payment', exact, [['Relworx-Signature', header]]);
    expect(verification).toEqual(parsedOk(JSON.stringify({ ...fields, currency: 'UGX' })));
    expect(String((verification as { parsed: Record<string, unknown> }).parsed.amount)).toBe('50000.000000000000000001');
  });

  it('takes Standard Webhooks headers with the Relworx secret as well', () => {
    const signature = standard(SECRET, 'msg_r', NOW, body);
    expect(verify('relworx_payment', body, [['webhook-id', 'msg_r'], ['webhook-timestamp', String(NOW)], ['webhook-signature', signature]])).toEqual({
      ok: true,
      scheme: 'standard-webhooks',
      secret: 0,
      webhookId: 'msg_r',
    });
  });

  describe('the exact parse runs only on a verified body', () => {
    beforeEach(() => losslessParses.mockClear());
    /** 64 KB of what is slowest to parse exactly: numbers, each kept as its text. */
    const heavy = JSON.stringify({ ...fields, filler: [] }).replace('[]', `[${Array.from({ length: 16_000 }, () => '1e9').join(',')}]`);

    it.each([
      ['a signature under another secret', relworx(OTHER_SECRET, NOW, fields), 'no_match'],
      ['a signature of zeros', `t=${NOW},v=${'0'.repeat(64)}`, 'no_match'],
      ['a stale timestamp', relworx(SECRET, NOW - 301, fields), 'timestamp_out_of_tolerance'],
      ['a malformed header', 'v=abc', 'malformed'],
    ])('never parses a 64 KB body exactly for %s', (_name, signature, reason) => {
      expect(verify('relworx_payment', heavy, [['Relworx-Signature', signature]])).toEqual({ ok: false, reason });
      expect(losslessParses).not.toHaveBeenCalled();
    });

    it('parses a verified body exactly once, and hands that parse back', () => {
      const verification = verify('relworx_payment', heavy, [['Relworx-Signature', header]]);
      expect(verification).toEqual({ ok: true, scheme: 'relworx', secret: 0, parsed: expect.objectContaining(fields) });
      expect(losslessParses).toHaveBeenCalledTimes(1);
    });

    it('checks the signature before refusing a duplicate key the exact parser would refuse', () => {
      const duplicated = body.replace('{', '{"note":"a","note":"b",');
      expect(verify('relworx_payment', duplicated, [['Relworx-Signature', relworx(OTHER_SECRET, NOW, fields)]])).toEqual({ ok: false, reason: 'no_match' });
      expect(verify('relworx_payment', duplicated, [['Relworx-Signature', header]])).toEqual({ ok: false, reason: 'ambiguous_body' });
    });

    it('refuses a body whose signed field is given twice, even when the value read last is the signed one', () => {
      // A reader that keeps the first value would see another status than the one verified.
      const twice = JSON.stringify(fields).replace('{', '{"status":"failed",');
      expect(JSON.parse(twice)).toEqual(fields);
      expect(verify('relworx_payment', twice, [['Relworx-Signature', header]])).toEqual({ ok: false, reason: 'ambiguous_body' });
    });
  });
});

describe('repeatedHeader', () => {
  it.each([
    ['a watched name given once', ['Content-Type', 'application/json'], ['content-type'], false],
    ['a watched name given twice, in two cases', ['Content-Type', 'application/json', 'content-type', 'text/plain'], ['content-type'], true],
    ['two watched names given once each', ['webhook-id', 'msg_1', 'Webhook-Signature', 'v1,x'], ['webhook-id', 'webhook-signature'], false],
    ['the second of two watched names given twice', ['webhook-id', 'msg_1', 'webhook-signature', 'v1,x', 'WEBHOOK-SIGNATURE', 'v1,y'], ['webhook-id', 'webhook-signature'], true],
    ['a name given twice that is not watched', ['Accept', 'a', 'accept', 'b'], ['content-type'], false],
    ['a watched name appearing as a header value', ['X-Note', 'content-type', 'Content-Type', 'application/json'], ['content-type'], false],
    ['no headers', [], ['content-type'], false],
  ])('%s: %s', (_name, rawHeaders, names, repeated) => {
    expect(repeatedHeader(rawHeaders, names)).toBe(repeated);
  });
});
