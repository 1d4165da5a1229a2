import { createLogger } from '../../platform/logger';
import { StartupAborted, StartupError, untilDone } from '../../platform/service-lifecycle';
import { CapturedLogs } from '../support/receiver';

const transient = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const permanent = Object.assign(new Error('Schema being registered is incompatible with an earlier schema'), { status: 409 });
const classify = (error: unknown) => (error === transient ? { code: 'network_error', retriable: true } : { code: 'schema_incompatible', retriable: false });

describe('untilDone', () => {
  it('retries a step while its failure is retriable, and returns what the step returns', async () => {
    const logs = new CapturedLogs();
    let calls = 0;
    const result = await untilDone('Starting', async () => (++calls < 3 ? Promise.reject(transient) : 'started'), createLogger({ level: 'info', name: 'test' }, logs), classify);
    expect(result).toBe('started');
    expect(logs.lines.map(({ msg, step, attempt, code }) => [msg, step, attempt, code])).toEqual([
      ['Start-up step failed; retrying', 'Starting', 1, 'network_error'],
      ['Start-up step failed; retrying', 'Starting', 2, 'network_error'],
    ]);
  });

  it('gives up at once on a failure retrying cannot fix, naming the step and the code', async () => {
    const logs = new CapturedLogs();
    let calls = 0;
    const started = untilDone('Starting the processor', async () => Promise.reject((calls += 1) && permanent), createLogger({ level: 'info', name: 'test' }, logs), classify);
    const error = await started.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(StartupError);
    expect(error).toEqual(expect.objectContaining({ code: 'schema_incompatible', cause: permanent }));
    expect((error as Error).message).toBe(
      'Starting the processor failed (schema_incompatible), and retrying cannot fix it: Schema being registered is incompatible with an earlier schema',
    );
    expect(calls).toBe(1);
    expect(logs.lines).toEqual([]);
  });

  it('stops waiting on a step in flight and attempts no other once its signal is aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const hanging = untilDone('Reaching Kafka', () => ((calls += 1), new Promise<never>(() => undefined)), createLogger({ level: 'info', name: 'test' }, new CapturedLogs()), classify, controller.signal);
    controller.abort();
    await expect(hanging).rejects.toThrow(new StartupAborted('Reaching Kafka'));
    expect(calls).toBe(1);
  });

  it('leaves its back-off sleep at once when its signal is aborted', async () => {
    const controller = new AbortController();
    const logs = new CapturedLogs();
    let calls = 0;
    const retrying = untilDone('Reaching Kafka', async () => Promise.reject((calls += 1) && transient), createLogger({ level: 'info', name: 'test' }, logs), classify, controller.signal);
    while (logs.lines.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const aborted = Date.now();
    controller.abort();
    await expect(retrying).rejects.toBeInstanceOf(StartupAborted);
    expect(Date.now() - aborted).toBeLessThan(100);
    expect(calls).toBe(1);
  });
});
