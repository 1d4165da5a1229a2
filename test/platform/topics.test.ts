import { createTopicsWithLeaders } from '../../platform/topics';
import { onCleanup } from '../support/cleanup';
import { testAdmin } from '../support/kafka';
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
