import { setTimeout as sleep } from 'node:timers/promises';

/**
 * When each of a round's events was due and when it arrived at the end of the pipeline, on the
 * performance.now() clock (NaN: not yet). Typed arrays: a soak round holds 150,000 of each.
 */
export interface Arrivals {
  readonly due: Float64Array;
  readonly arrived: Float64Array;
  /** Events that arrived, each counted once. */
  readonly received: number;
  schedule(index: number, at: number): void;
  /** The first arrival of a scheduled event counts; a duplicate or an unscheduled index does not. */
  arrive(index: number, at: number): void;
  latencies(): number[];
  /** Indexes scheduled that never arrived. */
  neverArrived(): number[];
}

export function createArrivals(count: number): Arrivals {
  const due = new Float64Array(count).fill(Number.NaN);
  const arrived = new Float64Array(count).fill(Number.NaN);
  let received = 0;
  const indexes = (keep: (index: number) => boolean): number[] => {
    const kept: number[] = [];
    for (let index = 0; index < count; index += 1) if (!Number.isNaN(due[index]!) && keep(index)) kept.push(index);
    return kept;
  };
  return {
    due,
    arrived,
    get received() {
      return received;
    },
    schedule(index, at) {
      due[index] = at;
    },
    arrive(index, at) {
      if (!(index >= 0 && index < count) || Number.isNaN(due[index]!) || !Number.isNaN(arrived[index]!)) return;
      arrived[index] = at;
      received += 1;
    },
    latencies: () => indexes((index) => !Number.isNaN(arrived[index]!)).map((index) => arrived[index]! - due[index]!),
    neverArrived: () => indexes((index) => Number.isNaN(arrived[index]!)),
  };
}

/**
 * An offered rate, scheduled: `send(index, due)` for index 0..count-1 at firstDue + index/rate
 * (performance.now() clock), whether or not earlier sends were answered, so a slow answer
 * cannot hide latency.
 */
export async function sendAtRate(options: { rate: number; count: number; firstDue: number; send: (index: number, due: number) => void }): Promise<void> {
  for (let index = 0; index < options.count; index += 1) {
    const due = options.firstDue + (index * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    options.send(index, due);
  }
}

/**
 * A round's measured part: `count` sends at `rate` from `firstDue`, each scheduled in `arrivals`
 * at its due time; then waits for every send to settle and (up to 60 s) for every accepted one to
 * arrive. `send` says whether its message was accepted. Returns the indexes accepted.
 */
export async function measureAtRate(options: { rate: number; count: number; firstDue: number; arrivals: Arrivals; send: (index: number) => Promise<boolean> }): Promise<Set<number>> {
  const { arrivals } = options;
  const accepted = new Set<number>();
  const sends = new Set<Promise<void>>();
  await sendAtRate({
    rate: options.rate,
    count: options.count,
    firstDue: options.firstDue,
    send: (index, due) => {
      arrivals.schedule(index, due);
      const sent = options.send(index).then((ok) => void (ok && accepted.add(index)));
      sends.add(sent);
      void sent.finally(() => sends.delete(sent));
    },
  });
  await Promise.all(sends);
  await waitFor(() => arrivals.received >= accepted.size, 60_000);
  return accepted;
}

/** Waits until `done()` or `timeoutMs` has passed; whether it was done. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(20);
  return done();
}
