import { ConfigResourceTypes, ConfigSource, KafkaJSError } from 'kafkajs';
import { environmentReader } from '../../platform/environment';
import { createTopicsWithLeaders, ensureTopics, readTopicReplication, replicationFor } from '../../platform/topics';
import { onCleanup } from '../support/cleanup';
import { testAdmin, testKafka } from '../support/kafka';
import { uniqueName } from '../support/names';

describe('topic creation', () => {
  it('returns once every partition of every new topic has a leader', async () => {
    const admin = await testAdmin();
    const topics = [{ topic: uniqueName('led'), partitions: 3 }, { topic: uniqueName('led'), partitions: 1 }];
    onCleanup(() => admin.deleteTopics({ topics: topics.map(({ topic }) => topic) }).catch(() => undefined));
    await createTopicsWithLeaders(admin, topics);

    const { topics: found } = await admin.fetchTopicMetadata({ topics: topics.map(({ topic }) => topic) });
    const led = (topic: string): number => found.find((entry) => entry.name === topic)!.partitions.filter(({ leader }) => leader >= 0).length;
    expect(topics.map(({ topic }) => led(topic))).toEqual([3, 1]);
  });
});

describe('topic replication: what a cluster of that size gets', () => {
  it.each([
    [{}, 1, { replicationFactor: 1, minInsyncReplicas: 1 }],
    [{}, 2, { replicationFactor: 2, minInsyncReplicas: 2 }],
    [{}, 3, { replicationFactor: 3, minInsyncReplicas: 2 }],
    [{}, 5, { replicationFactor: 3, minInsyncReplicas: 2 }],
    [{ replicationFactor: 1 }, 3, { replicationFactor: 1, minInsyncReplicas: 1 }],
    [{ replicationFactor: 5 }, 6, { replicationFactor: 5, minInsyncReplicas: 2 }],
    [{ minInsyncReplicas: 1 }, 3, { replicationFactor: 3, minInsyncReplicas: 1 }],
    [{ replicationFactor: 3, minInsyncReplicas: 3 }, 1, { replicationFactor: 3, minInsyncReplicas: 3 }],
  ])('asked %p on %p broker(s): %p', (asked, brokers, expected) => {
    expect(replicationFor(asked, brokers)).toEqual(expected);
  });

  it.each<[NodeJS.ProcessEnv, object, string[]]>([
    [{}, {}, []],
    [{ TOPIC_REPLICATION_FACTOR: '3', TOPIC_MIN_INSYNC_REPLICAS: '2' }, { replicationFactor: 3, minInsyncReplicas: 2 }, []],
    [{ TOPIC_MIN_INSYNC_REPLICAS: '3' }, { minInsyncReplicas: 3 }, []],
    [{ TOPIC_REPLICATION_FACTOR: '0' }, {}, ['TOPIC_REPLICATION_FACTOR must be a whole number from 1 to 32767']],
    [
      { TOPIC_REPLICATION_FACTOR: '2', TOPIC_MIN_INSYNC_REPLICAS: '3' },
      { replicationFactor: 2, minInsyncReplicas: 3 },
      ['TOPIC_MIN_INSYNC_REPLICAS must not exceed TOPIC_REPLICATION_FACTOR: a topic with fewer copies than must be in sync refuses every write'],
    ],
    [{ TOPIC_MIN_INSYNC_REPLICAS: '4' }, { minInsyncReplicas: 4 }, ['TOPIC_MIN_INSYNC_REPLICAS above 3 needs TOPIC_REPLICATION_FACTOR set at least as high (unset, it is at most 3)']],
  ])('reads %p as %p', (env, expected, problems) => {
    const read = environmentReader(env);
    expect(readTopicReplication(read)).toEqual(expected);
    expect(read.problems).toEqual(problems);
  });
});

describe('topic creation on the cluster', () => {
  /** Each partition's replica count, and the topic's own min.insync.replicas (undefined: the cluster's, not the topic's). */
  async function replicationOf(topic: string): Promise<{ replicas: number[]; minInsyncReplicas: string | undefined }> {
    const admin = await testAdmin();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }], includeSynonyms: false });
    const entry = resources[0]!.configEntries.find(({ configName }) => configName === 'min.insync.replicas');
    return { replicas: metadata!.partitions.map(({ replicas }) => replicas.length), minInsyncReplicas: entry?.configSource === ConfigSource.TOPIC_CONFIG ? entry.configValue : undefined };
  }

  it('creates the missing topics as replicated as the single test broker allows, min.insync.replicas set on each', async () => {
    const admin = await testAdmin();
    const topics = [{ topic: uniqueName('replicated'), partitions: 2 }, { topic: uniqueName('replicated.dlq'), partitions: 1 }];
    onCleanup(() => admin.deleteTopics({ topics: topics.map(({ topic }) => topic) }).catch(() => undefined));

    const created = await ensureTopics(testKafka(), topics);

    expect(created).toEqual({ topics: topics.map(({ topic }) => topic), brokers: 1, replicationFactor: 1, minInsyncReplicas: 1 });
    expect(await replicationOf(topics[0]!.topic)).toEqual({ replicas: [1, 1], minInsyncReplicas: '1' });
    expect(await replicationOf(topics[1]!.topic)).toEqual({ replicas: [1], minInsyncReplicas: '1' });
  });

  it('leaves a topic that exists as it is', async () => {
    const admin = await testAdmin();
    const topic = uniqueName('existing');
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
    await createTopicsWithLeaders(admin, [{ topic, partitions: 1 }]);

    expect(await ensureTopics(testKafka(), [{ topic, partitions: 3 }], { minInsyncReplicas: 1 })).toBeUndefined();
    expect(await replicationOf(topic)).toEqual({ replicas: [1], minInsyncReplicas: undefined });
  });

  it('waits, creating nothing, when the cluster has fewer brokers than the replication asked for', async () => {
    const admin = await testAdmin();
    const topic = uniqueName('unreplicated');
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));

    const error = await ensureTopics(testKafka(), [{ topic, partitions: 1 }], { replicationFactor: 3 }).catch((failure: unknown) => failure);

    expect(error).toBeInstanceOf(KafkaJSError);
    expect(error).toEqual(expect.objectContaining({ retriable: true, message: `Topics ${topic} need 3 brokers (replication factor 3, min.insync.replicas 2); the cluster has 1` }));
    expect(await admin.listTopics()).not.toContain(topic);
  });
});
