import { stopAll } from '../../scripts/harness/containers';

describe('stopAll', () => {
  it('stops every container though one fails to stop, and then reports the failure', async () => {
    const stopped: string[] = [];
    const container = (name: string, fails = false) => ({
      async stop() {
        if (fails) throw new Error(`${name} did not stop`);
        stopped.push(name);
      },
    });

    const stopping = stopAll([container('kafka'), container('registry', true), container('postgres')]);

    await expect(stopping).rejects.toThrow('1 of 3 containers did not stop');
    await expect(stopping).rejects.toMatchObject({ errors: [new Error('registry did not stop')] });
    expect(stopped.sort()).toEqual(['kafka', 'postgres']);
  });

  it('resolves once all have stopped', async () => {
    let stops = 0;
    await stopAll([{ stop: async () => (stops += 1) }, { stop: async () => (stops += 1) }]);
    expect(stops).toBe(2);
  });
});
