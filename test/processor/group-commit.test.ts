import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGroupCommit, type GroupCommitOptions } from '../../processor/group-commit';

/** A transaction that takes until the test releases it: the seam that shows what went together. */
interface Held {
  readonly events: string[];
  readonly alone: boolean;
  release(): void;
  fail(error: unknown): void;
}

function harness(options: Partial<GroupCommitOptions<string, string>> = {}) {
  const transactions: Held[] = [];
  const hold = (alone: boolean) => (events: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      transactions.push({ events, alone, release: () => resolve(events.map((event) => `applied ${event}`)), fail: reject });
    });
  const apply = createGroupCommit<string, string>({
    commit: hold(false),
    commitAlone: hold(true),
    splitOn: (error) => error === 'refused',
    maxEvents: 10,
    maxInFlight: 2,
    ...options,
  });
  return { apply, transactions };
}

/** Lets the group commit dispatch what was handed over (it waits one turn of the event loop). */
const settle = async (): Promise<void> => {
  await nextTurn();
  await nextTurn();
};

describe('group commit', () => {
  it('applies one chunk alone, and answers it with its own results', async () => {
    const { apply, transactions } = harness();
    const results = apply(['a1', 'a2']);
    await settle();
    expect(transactions.map(({ events, alone }) => ({ events, alone }))).toEqual([{ events: ['a1', 'a2'], alone: true }]);
    transactions[0]!.release();
    await expect(results).resolves.toEqual(['applied a1', 'applied a2']);
  });

  it('puts the chunks handed over in one turn in one transaction, in the order given, and answers each with its own share', async () => {
    const { apply, transactions } = harness();
    const a = apply(['a1', 'a2']);
    const b = apply(['b1']);
    const c = apply(['c1', 'c2', 'c3']);
    await settle();
    expect(transactions.map(({ events }) => events)).toEqual([['a1', 'a2', 'b1', 'c1', 'c2', 'c3']]);
    transactions[0]!.release();
    expect(await Promise.all([a, b, c])).toEqual([['applied a1', 'applied a2'], ['applied b1'], ['applied c1', 'applied c2', 'applied c3']]);
  });

  it('holds chunks handed over during a transaction for the next one, all together', async () => {
    const { apply, transactions } = harness();
    const first = apply(['a1']);
    await settle();
    const later = [apply(['a2']), apply(['b1'])];
    await settle();
    expect(transactions).toHaveLength(1);
    transactions[0]!.release();
    await first;
    await settle();
    expect(transactions.map(({ events }) => events)).toEqual([['a1'], ['a2', 'b1']]);
    transactions[1]!.release();
    expect(await Promise.all(later)).toEqual([['applied a2'], ['applied b1']]);
  });

  it('never puts more than maxEvents in a transaction, except a single chunk that alone is larger', async () => {
    const { apply, transactions } = harness({ maxInFlight: 1 });
    const large = Array.from({ length: 12 }, (_, index) => `x${index}`);
    void apply(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    void apply(['b1', 'b2', 'b3', 'b4', 'b5']);
    void apply(large);
    await settle();
    expect(transactions.map(({ events }) => events.length)).toEqual([6]);
    transactions[0]!.release();
    await settle();
    transactions[1]!.release();
    await settle();
    expect(transactions.map(({ events }) => events.length)).toEqual([6, 5, 12]);
  });

  it('starts a second transaction alongside only when a full group is waiting, and never more than maxInFlight', async () => {
    const { apply, transactions } = harness({ maxEvents: 4, maxInFlight: 2 });
    void apply(['a1']);
    await settle();
    void apply(['b1', 'b2']);
    await settle();
    expect(transactions).toHaveLength(1);
    void apply(['c1', 'c2']);
    await settle();
    expect(transactions.map(({ events }) => events)).toEqual([['a1'], ['b1', 'b2', 'c1', 'c2']]);
    void apply(['d1', 'd2', 'd3', 'd4']);
    await settle();
    expect(transactions).toHaveLength(2);
  });

  it('fails every chunk of a failed transaction with its error, for each consumer to retry', async () => {
    const { apply, transactions } = harness();
    const chunks = [apply(['a1']), apply(['b1'])];
    await settle();
    const failure = new Error('connection lost');
    transactions[0]!.fail(failure);
    for (const chunk of chunks) await expect(chunk).rejects.toBe(failure);
  });

  it('applies each chunk alone, side by side up to maxInFlight and before chunks that came later, when the database refused the group', async () => {
    const { apply, transactions } = harness({ maxInFlight: 2 });
    const a = apply(['a1']);
    const b = apply(['b1', 'b2']);
    const c = apply(['c1']);
    await settle();
    transactions[0]!.fail('refused');
    await settle();
    expect(transactions.map(({ events, alone }) => ({ events, alone }))).toEqual([
      { events: ['a1', 'b1', 'b2', 'c1'], alone: false },
      { events: ['a1'], alone: true },
      { events: ['b1', 'b2'], alone: true },
    ]);
    const later = apply(['d1']);
    transactions[1]!.fail(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    await settle();
    expect(transactions[3]).toEqual(expect.objectContaining({ events: ['c1'], alone: true }));
    transactions[2]!.release();
    transactions[3]!.release();
    await expect(b).resolves.toEqual(['applied b1', 'applied b2']);
    await expect(c).resolves.toEqual(['applied c1']);
    await settle();
    expect(transactions[4]).toEqual(expect.objectContaining({ events: ['d1'], alone: true }));
    transactions[4]!.release();
    await expect(later).resolves.toEqual(['applied d1']);
  });

  it('goes on with the chunks that waited after a transaction failed', async () => {
    const { apply, transactions } = harness({ maxInFlight: 1 });
    const failed = apply(['a1']);
    await settle();
    const next = apply(['b1']);
    transactions[0]!.fail(new Error('deadlock'));
    await expect(failed).rejects.toThrow('deadlock');
    await settle();
    transactions[1]!.release();
    await expect(next).resolves.toEqual(['applied b1']);
  });
});
