/**
 * Whether a failure is worth retrying decides between "retry with backoff, commit nothing" and
 * "dead-letter and move on". It is decided from codes, never from message text.
 */
export type RejectionReason =
  | 'undecodable_envelope'
  | 'unknown_webhook_type'
  | 'schema_invalid'
  | 'trade_not_found'
  | 'type_mismatch'
  | 'amount_mismatch'
  | 'payment_after_terminal'
  | 'duplicate_payment'
  | 'event_id_collision'
  | 'internal_error';

/** SQLSTATE classes that describe the moment, not the data: connection, rollback, resources, operator. */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57', '58']);
const TRANSIENT_SQLSTATES = new Set(['55P03', '55006', '25P03']);

/**
 * Permanent: programmer errors (never retried), SQLSTATEs that describe the data (22 data
 * exception, 23 constraint violation, ...), HTTP 4xx, or an error that says so. Everything else
 * — lost connections (pg reports those without a code), timeouts, broker errors — is retried:
 * an error we do not understand blocks its partition and shows in the logs, rather than sending
 * a payment to the dead-letter topic.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return false;
  if (!(error instanceof Error)) return true;
  const { code, retriable, status } = error as Error & { code?: unknown; retriable?: unknown; status?: unknown };
  if (typeof retriable === 'boolean') return retriable;
  if (typeof status === 'number') return status >= 500 || status === 429;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2)) || TRANSIENT_SQLSTATES.has(code);
  }
  return true;
}
