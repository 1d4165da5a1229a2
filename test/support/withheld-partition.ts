import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';

/**
 * tulios/kafkajs#1303 at the producer seam: a `send` that, while `withholding()`, hands the real
 * producer only the messages of partitions other than `partition()` and answers what the broker
 * answered for them, as kafkajs does when that partition's leader moved during the call to a
 * broker that had already answered. The withheld messages are never sent.
 */
export function withholdingPartition(real: Producer, partition: () => number, withholding: () => boolean): (record: ProducerRecord) => Promise<RecordMetadata[]> {
  return (record) => {
    if (!withholding()) return real.send(record);
    const others = record.messages.filter((message) => message.partition !== partition());
    return others.length === 0 ? Promise.resolve([]) : real.send({ ...record, messages: others });
  };
}
