/**
 * One partition's chunk waiting for a transaction: its events, and who to tell the outcome.
 */
interface Waiting<E, R> {
  readonly events: readonly E[];
  /** Split from a group whose transaction the database refused: it goes in a transaction of its own. */
  readonly alone: boolean;
  resolve(results: R[]): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions<E, R> {
  /** Applies events in one transaction, in the order given; one result per event, in that order. */
  commit(events: E[]): Promise<R[]>;
  /**
   * Applies one chunk alone: a group of one chunk, or each chunk of a group whose transaction
   * failed for something `splitOn` says one chunk's events may have caused, so that the other
   * chunks do not go down with it.
   */
  commitAlone(events: E[]): Promise<R[]>;
  /** Whether a group's failure may be one chunk's doing (the database refusing an event's data). */
  splitOn(error: unknown): boolean;
  /** At most this many events in one transaction; a single chunk larger than that still goes whole. */
  maxEvents: number;
  /** At most this many transactions at a time; a second one starts only for a full group. */
  maxInFlight: number;
}

/**
 * Group commit across partitions. Each partition's consumer hands its chunk to `apply` and waits
 * for it; chunks handed over while a transaction is under way wait and go together in the next
 * one, so the number of events per transaction follows the load and an idle processor adds no
 * delay (the first chunk waits one turn of the event loop, for the other partitions of the
 * same fetch). One transaction is under way at a time, unless a full group is waiting: then up
 * to `maxInFlight`.
 *
 * A partition never has two chunks waiting (its consumer waits for each), so offset order within
 * a partition holds; between partitions there was no order to keep. The events of one group
 * lock their trades in one order, as one partition's chunk did.
 *
 * A failed transaction fails every chunk in it with the same error, for each consumer to retry
 * or stop on, unless `splitOn` says it may be one chunk's doing: then its chunks go back to the
 * head of the line, each to be applied alone (side by side, up to `maxInFlight`), and fail or
 * succeed on their own.
 */
export function createGroupCommit<E, R>(options: GroupCommitOptions<E, R>): (events: readonly E[]) => Promise<R[]> {
  const { maxEvents, maxInFlight } = options;
  const waiting: Array<Waiting<E, R>> = [];
  let inFlight = 0;
  let scheduled = false;

  /** The oldest waiting chunks that fit in `maxEvents`: always at least one, and a chunk split from a group alone. */
  function takeGroup(): Array<Waiting<E, R>> {
    if (waiting[0]!.alone) return waiting.splice(0, 1);
    let events = 0;
    let count = 0;
    while (count < waiting.length && !waiting[count]!.alone && (count === 0 || events + waiting[count]!.events.length <= maxEvents)) {
      events += waiting[count]!.events.length;
      count += 1;
    }
    return waiting.splice(0, count);
  }

  const waitingEvents = (): number => waiting.reduce((sum, chunk) => sum + chunk.events.length, 0);

  async function run(group: Array<Waiting<E, R>>): Promise<void> {
    if (group.length === 1) {
      const [chunk] = group;
      // Through a promise, so that even a synchronous throw reaches the chunk's consumer.
      return Promise.resolve()
        .then(() => options.commitAlone([...chunk!.events]))
        .then(chunk!.resolve, chunk!.reject);
    }
    let results: R[];
    try {
      results = await options.commit(group.flatMap((chunk) => chunk.events));
    } catch (error) {
      if (!options.splitOn(error)) {
        for (const chunk of group) chunk.reject(error);
        return;
      }
      // First in line, each in a transaction of its own, side by side up to maxInFlight.
      waiting.unshift(...group.map((chunk) => ({ ...chunk, alone: true })));
      return;
    }
    let start = 0;
    for (const chunk of group) {
      chunk.resolve(results.slice(start, start + chunk.events.length));
      start += chunk.events.length;
    }
  }

  function dispatch(): void {
    scheduled = false;
    while (waiting.length > 0 && (inFlight === 0 || (inFlight < maxInFlight && (waiting[0]!.alone || waitingEvents() >= maxEvents)))) {
      inFlight += 1;
      void run(takeGroup()).finally(() => {
        inFlight -= 1;
        schedule();
      });
    }
  }

  function schedule(): void {
    if (scheduled || waiting.length === 0) return;
    scheduled = true;
    // setImmediate: the chunks of one fetch, handed over in this turn, go together.
    setImmediate(dispatch);
  }

  return (events) =>
    new Promise<R[]>((resolve, reject) => {
      waiting.push({ events, alone: false, resolve, reject });
      schedule();
    });
}
