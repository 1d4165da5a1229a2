import { RESPONSES } from '../../receiver/responses';

describe('receiver responses', () => {
  it.each([
    ['invalid_signature', 401, 'Invalid signature'],
    ['invalid_json', 400, 'Invalid JSON'],
    ['missing_fields', 400, 'Missing required fields'],
    ['invalid_status', 400, 'Invalid status'],
    ['invalid_webhook_type', 400, 'Invalid webhook_type'],
    ['payload_too_large', 413, 'Payload too large'],
    ['unsupported_media_type', 415, 'Content-Type must be application/json'],
    ['not_found', 404, 'Not found'],
    ['method_not_allowed', 405, 'Method not allowed'],
    ['rate_limited', 429, 'Too many requests'],
    ['unavailable', 503, 'Temporarily unavailable'],
  ] as const)('answers %s with %d and the error "%s"', (outcome, status, error) => {
    expect(RESPONSES[outcome]).toEqual({ status, body: { success: false, error } });
  });

  it('answers only unavailable with a 5xx: senders retry a 5xx and never a 4xx', () => {
    const retried = Object.entries(RESPONSES).filter(([, response]) => response.status >= 500);
    expect(retried.map(([outcome]) => outcome)).toEqual(['unavailable']);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(RESPONSES)).toBe(true);
  });
});
