/**
 * The `WebhookEvent` record of schemas/avro/webhook-event.avsc, as the receiver writes it and
 * the processor reads it.
 */
export interface WebhookEventRecord {
  event_id: string;
  webhook_type: string;
  /** Milliseconds since the epoch (Avro timestamp-millis). */
  received_at: number;
  path: string;
  signature_scheme: string;
  remote_addr: string | null;
  content_type: string;
  /** The request body exactly as received (UTF-8 JSON text). */
  body: string;
}
