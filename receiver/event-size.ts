import type { IHeaders } from 'kafkajs';

/**
 * How many bytes an event takes in a Kafka record batch, so that a produce request never holds
 * a batch the broker refuses. The broker checks each partition's record batch against the
 * topic's `max.message.bytes` (default 1 MiB + 12 bytes of log overhead, from the broker's
 * `message.max.bytes`), and kafkajs writes all of one request's messages for a partition as
 * one batch, uncompressed here, with no limit of its own.
 */

/** node:http's limit on the request line and headers together (its `maxHeaderSize`). */
export const MAX_HEADER_BYTES = 16 * 1024;

/** A v2 record batch's header: offset, length, epoch, magic, CRC, attributes, deltas, timestamps, producer id/epoch, sequence, count. */
export const BATCH_OVERHEAD_BYTES = 61;

/** Per record, at most: its length, attributes, timestamp and offset deltas, key and value lengths, header count (varints at their widest). */
const RECORD_OVERHEAD_BYTES = 36;

/** Per header, at most: the two varint lengths. */
const HEADER_OVERHEAD_BYTES = 10;

export interface SizedMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: IHeaders;
}

/** An upper bound of the bytes one message adds to a record batch. */
export function recordBytes(message: SizedMessage): number {
  let bytes = RECORD_OVERHEAD_BYTES + Buffer.byteLength(message.key) + message.value.length;
  for (const [name, value] of Object.entries(message.headers)) {
    bytes += HEADER_OVERHEAD_BYTES + Buffer.byteLength(name) + (value === undefined ? 0 : Buffer.byteLength(value as string | Buffer));
  }
  return bytes;
}

/**
 * Everything in an event besides what comes from the body or the request headers: the path,
 * type, scheme, client address, times, the wire-format prefix, Avro lengths, header names, and
 * the batch and record overheads.
 */
const FIXED_EVENT_BYTES = 1024;

/**
 * The most bytes one event can take in a batch when bodies are at most `maxBodyBytes`. The body
 * is in it once, and the key (a trade id, or Relworx's customer reference read from the body)
 * is at most as long again. Request headers reach it as the Content-Type and the webhook-id
 * (twice: in the event id and the `ce_id` header); node:http reads header bytes as Latin-1, and
 * each such character can take two bytes in UTF-8: so at most four times the header limit.
 */
export function eventBytesBound(maxBodyBytes: number): number {
  return 2 * maxBodyBytes + 4 * MAX_HEADER_BYTES + FIXED_EVENT_BYTES;
}

/** The largest `maxBodyBytes` whose events fit in a batch of `batchMaxBytes`. */
export function largestBodyFor(batchMaxBytes: number): number {
  return Math.max(0, Math.floor((batchMaxBytes - 4 * MAX_HEADER_BYTES - FIXED_EVENT_BYTES) / 2));
}
