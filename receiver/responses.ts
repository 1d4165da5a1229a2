/**
 * Every answer the receiver gives, with its status and exact body; openapi.yaml documents each.
 * Senders retry 5xx and never 4xx, so only "we could not persist it" is a 5xx: a webhook we
 * refused for what it holds is never retried, and one we could not write is always retried.
 * The 202 is not here: its body is a receipt (`event_id`, and the `topic`, `partition` and
 * `offset` of the record the event was written as), built per request from the publisher's answer.
 */
export const RESPONSES = Object.freeze({
  invalid_signature: { status: 401, body: { success: false, error: 'Invalid signature' } },
  invalid_json: { status: 400, body: { success: false, error: 'Invalid JSON' } },
  missing_fields: { status: 400, body: { success: false, error: 'Missing required fields' } },
  invalid_status: { status: 400, body: { success: false, error: 'Invalid status' } },
  invalid_webhook_type: { status: 400, body: { success: false, error: 'Invalid webhook_type' } },
  payload_too_large: { status: 413, body: { success: false, error: 'Payload too large' } },
  unsupported_media_type: { status: 415, body: { success: false, error: 'Content-Type must be application/json' } },
  not_found: { status: 404, body: { success: false, error: 'Not found' } },
  method_not_allowed: { status: 405, body: { success: false, error: 'Method not allowed' } },
  rate_limited: { status: 429, body: { success: false, error: 'Too many requests' } },
  unavailable: { status: 503, body: { success: false, error: 'Temporarily unavailable' } },
} as const);

export type Outcome = keyof typeof RESPONSES | 'accepted';
