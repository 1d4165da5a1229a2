import { createKafka } from '../../platform/kafka';
import { createLogger } from '../../platform/logger';
import { CapturedLogs } from '../support/receiver';

// No broker is needed: constructing the client connects to nothing, and its logger is the one
// every kafkajs component writes through.
const NO_BROKER = ['127.0.0.1:1'];

describe('createKafka', () => {
  it.each([
    ['error', 50],
    ['warn', 40],
    ['info', 30],
  ] as const)('writes a kafkajs %s line through pino at level %d, marked as from kafkajs, its fields beside the message', (method, level) => {
    const logs = new CapturedLogs();
    const kafka = createKafka({ clientId: 'test', brokers: NO_BROKER, logger: createLogger({ level: 'debug', name: 'receiver' }, logs) });
    kafka.logger()[method]('Connection error', { broker: '127.0.0.1:1' });
    expect(logs.lines).toEqual([expect.objectContaining({ level, name: 'receiver', component: 'kafkajs', msg: 'Connection error', broker: '127.0.0.1:1' })]);
  });

  it('leaves out kafkajs debug lines', () => {
    const logs = new CapturedLogs();
    const kafka = createKafka({ clientId: 'test', brokers: NO_BROKER, logger: createLogger({ level: 'debug', name: 'receiver' }, logs) });
    kafka.logger().debug('Request Metadata', { broker: '127.0.0.1:1' });
    expect(logs.lines).toEqual([]);
  });

  it('drops kafkajs lines below the level the service logger is set to', () => {
    const logs = new CapturedLogs();
    const kafka = createKafka({ clientId: 'test', brokers: NO_BROKER, logger: createLogger({ level: 'warn', name: 'receiver' }, logs) });
    kafka.logger().info('Starting', {});
    kafka.logger().warn('Retrying', {});
    expect(logs.messages()).toEqual(['Retrying']);
  });
});
