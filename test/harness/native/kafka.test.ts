import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareCluster, type PreparedCluster } from '../../../scripts/harness/native/kafka-cluster';
import { deleteKafkaData, servicesClusterPlan } from '../../../scripts/harness/native/kafka';
import { startProcess, stopProcess } from '../../../scripts/harness/native/processes';
import { serviceSettings, type ServiceSettings } from '../../../scripts/harness/native/settings';
import { onCleanup } from '../../support/cleanup';

/** The services' settings with a state folder of the test's own; nothing here starts Kafka. */
function settingsIn(stateDir: string, overrides: Partial<ServiceSettings> = {}): ServiceSettings {
  return { ...serviceSettings({}), stateDir, kafkaPort: 39092, kafkaControllerPort: 39093, ...overrides };
}

function stateFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trade-webhooks-kafka-state-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A file standing for a node's data: what a format or a removal would take away. */
function keepData(cluster: PreparedCluster): string[] {
  return cluster.nodes.map((node) => {
    mkdirSync(node.dataDir, { recursive: true });
    const file = join(node.dataDir, 'kept');
    writeFileSync(file, node.name);
    return file;
  });
}

const single = { kafkaBrokerCount: 1, kafkaSecurity: 'plaintext' } as const;
const three = { kafkaBrokerCount: 3, kafkaSecurity: 'plaintext' } as const;

describe("the services' Kafka data, kept across a stop", () => {
  it('a single node and a three-broker cluster of one state folder keep their data in folders apart', () => {
    const stateDir = stateFolder();
    const node = prepareCluster(servicesClusterPlan(settingsIn(stateDir, single)));
    const singleData = keepData(node);
    const cluster = prepareCluster(servicesClusterPlan(settingsIn(stateDir, three)));
    const clusterData = keepData(cluster);

    expect(node.nodes.map((n) => n.home)).toEqual([join(stateDir, 'kafka')]);
    expect(cluster.nodes.every((n) => n.home.startsWith(join(stateDir, 'kafka-3-brokers-plaintext')))).toBe(true);
    expect(cluster.clusterId).not.toBe(node.clusterId);
    // Back to one broker: its data and its cluster id are as they were.
    const again = prepareCluster(servicesClusterPlan(settingsIn(stateDir, single)));
    expect(again.clusterId).toBe(node.clusterId);
    for (const file of [...singleData, ...clusterData]) expect(existsSync(file)).toBe(true);
  });

  it('new ports keep the data and the cluster id, and the node listens on them', () => {
    const stateDir = stateFolder();
    const before = prepareCluster(servicesClusterPlan(settingsIn(stateDir, single)));
    const [data] = keepData(before);
    const after = prepareCluster(servicesClusterPlan(settingsIn(stateDir, { ...single, kafkaPort: 39192, kafkaControllerPort: 39193 })));
    expect(after.clusterId).toBe(before.clusterId);
    expect(existsSync(data!)).toBe(true);
    const properties = readFileSync(after.nodes[0]!.config, 'utf8');
    expect(properties).toContain('listeners=PLAINTEXT://127.0.0.1:39192,CONTROLLER://127.0.0.1:39193\n');
    expect(properties).toContain('controller.quorum.voters=1@127.0.0.1:39193\n');
  });

  it('deleting the data deletes every cluster kept, and nothing else of the state folder', () => {
    const stateDir = stateFolder();
    prepareCluster(servicesClusterPlan(settingsIn(stateDir, single)));
    prepareCluster(servicesClusterPlan(settingsIn(stateDir, three)));
    mkdirSync(join(stateDir, 'logs'));
    writeFileSync(join(stateDir, 'logs', 'kafka.log'), 'kept');

    deleteKafkaData(settingsIn(stateDir));
    expect(existsSync(join(stateDir, 'kafka'))).toBe(false);
    expect(existsSync(join(stateDir, 'kafka-3-brokers-plaintext'))).toBe(false);
    expect(readFileSync(join(stateDir, 'logs', 'kafka.log'), 'utf8')).toBe('kept');
  });

  it('refuses to prepare a three-broker cluster while the single node runs from the same state folder, and leaves both as they are', async () => {
    const stateDir = stateFolder();
    const node = prepareCluster(servicesClusterPlan(settingsIn(stateDir, single)));
    const [data] = keepData(node);
    // A process that stands for the running node: its pid file and its command line name it as launchNode does.
    const marker = `-Dtrade-webhooks.service=kafka:${join(stateDir, 'kafka')}`;
    startProcess({ stateDir, name: 'kafka', command: process.execPath, args: ['-e', 'setTimeout(() => {}, 60_000)', '--', marker], cwd: stateDir, marker });
    onCleanup(() => stopProcess(stateDir, 'kafka', 5000));

    expect(() => prepareCluster(servicesClusterPlan(settingsIn(stateDir, three)))).toThrow(
      /^Kafka already runs from .* as 1 broker \(plaintext, port 39092, controller port 39093\), not 3 brokers \(plaintext, ports 39092, 39192, 39292, controller port 39093\): stop it first/,
    );
    expect(() => prepareCluster(servicesClusterPlan(settingsIn(stateDir, { ...single, kafkaPort: 39192 })))).toThrow(/^Kafka already runs from .* as 1 broker \(plaintext, port 39092/);
    expect(existsSync(join(stateDir, 'kafka-3-brokers-plaintext'))).toBe(false);
    expect(existsSync(data!)).toBe(true);
    // The same cluster as it runs is prepared as usual.
    expect(prepareCluster(servicesClusterPlan(settingsIn(stateDir, single))).clusterId).toBe(node.clusterId);
  });
});
