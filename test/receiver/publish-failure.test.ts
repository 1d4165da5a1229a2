import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSRequestTimeoutError } from 'kafkajs';
import { PublishError, publishFailure, type PublishFailureCode } from '../../receiver/publish-failure';

// Broker errors made as kafkajs makes them from a produce response's error code.
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };

/** As kafkajs's retrier wraps an error it will not retry (its typings leave out the cause). */
const nonRetriable = (error: Error) => new (KafkaJSNonRetriableError as unknown as new (e: Error, metadata: { cause: Error }) => Error)(error, { cause: error });

const MESSAGE_TOO_LARGE = 10;
const RECORD_LIST_TOO_LARGE = 18;
const NOT_ENOUGH_REPLICAS = 19;
const INVALID_TIMESTAMP = 32;
const INVALID_RECORD = 87;
const NOT_LEADER_FOR_PARTITION = 6;

describe('publish failures: what a failed batch says about the receiver', () => {
  const cases: Array<[string, unknown, PublishFailureCode]> = [
    ['a batch over the topic max.message.bytes', createErrorFromCode(MESSAGE_TOO_LARGE), 'RECORDS_REFUSED'],
    ['a record list too large', createErrorFromCode(RECORD_LIST_TOO_LARGE), 'RECORDS_REFUSED'],
    ['a record the broker validated and refused', createErrorFromCode(INVALID_RECORD), 'RECORDS_REFUSED'],
    ['a timestamp out of the topic range', createErrorFromCode(INVALID_TIMESTAMP), 'RECORDS_REFUSED'],
    ['a refusal wrapped by kafkajs as non-retriable', nonRetriable(createErrorFromCode(MESSAGE_TOO_LARGE)), 'RECORDS_REFUSED'],
    ['too few in-sync replicas', createErrorFromCode(NOT_ENOUGH_REPLICAS), 'PUBLISH_FAILED'],
    ['retries exhausted on a leader change', new KafkaJSNumberOfRetriesExceeded(createErrorFromCode(NOT_LEADER_FOR_PARTITION) as never, { retryCount: 5, retryTime: 1000 }), 'PUBLISH_FAILED'],
    ['a connection error', new KafkaJSConnectionError('Connection error: ECONNREFUSED'), 'PUBLISH_FAILED'],
    ['a request timeout', new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'), 'PUBLISH_FAILED'],
    ['no acknowledgement in time', new PublishError('not acknowledged within 5000 ms'), 'PUBLISH_FAILED'],
    ['an event larger than a batch', new PublishError('too large', 'RECORD_TOO_LARGE'), 'RECORD_TOO_LARGE'],
    ['something that is not an Error', 'broken', 'PUBLISH_FAILED'],
  ];

  it.each(cases)('%s', (_name, error, code) => {
    const failure = publishFailure(error);
    expect(failure).toBeInstanceOf(PublishError);
    expect(failure.code).toBe(code);
  });

  it('keeps the broker error as the cause, for the log', () => {
    const refusal = createErrorFromCode(MESSAGE_TOO_LARGE);
    expect(publishFailure(refusal).cause).toBe(refusal);
  });

  it('calls only an event that can never fit not worth retrying', () => {
    expect(new PublishError('x', 'RECORD_TOO_LARGE').retriable).toBe(false);
    expect(new PublishError('x', 'RECORDS_REFUSED').retriable).toBe(true);
    expect(new PublishError('x').retriable).toBe(true);
  });
});
