import { recordsRefusal } from '../platform/replaceable-producer';

export type PublishFailureCode =
  /** Kafka could not be reached, or did not acknowledge in time. */
  | 'PUBLISH_FAILED'
  /** Kafka answered and refused the batch for what it holds (too large, invalid). */
  | 'RECORDS_REFUSED'
  /** The event alone is larger than a batch may be: it was never sent. */
  | 'RECORD_TOO_LARGE';

/**
 * Why an event was not written. Every code is answered 503: nothing that was not persisted may
 * be answered with a 4xx (senders do not retry those). Only `PUBLISH_FAILED` says anything about
 * the connection to Kafka, so only it makes the receiver unready: a request must not be able to
 * take a receiver out of its load balancer by what it sends.
 */
export class PublishError extends Error {
  readonly retriable: boolean;
  constructor(
    message: string,
    readonly code: PublishFailureCode = 'PUBLISH_FAILED',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PublishError';
    // Refused records may fit in a smaller batch, or after the topic's limit is raised.
    this.retriable = code !== 'RECORD_TOO_LARGE';
  }
}

/** The failure of a batch as a PublishError. */
export function publishFailure(error: unknown): PublishError {
  if (error instanceof PublishError) return error;
  const refusal = recordsRefusal(error);
  if (refusal) return new PublishError(refusal.message, 'RECORDS_REFUSED', { cause: error });
  return new PublishError(error instanceof Error ? error.message : String(error), 'PUBLISH_FAILED', { cause: error });
}
