/** A seeded PRNG (mulberry32), so a failing run can be repeated with FAULT_SEED=<seed>. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const FAULT_SEED = Number(process.env.FAULT_SEED || Date.now() % 1_000_000_007);

/**
 * The random numbers of one scenario: the seed mixed with the scenario's name (FNV-1a), so a
 * scenario run alone with `-t` draws the same moments as in a run of the whole suite.
 */
export function scenarioRandom(scenario: string): { next: () => number; between: (min: number, max: number) => number } {
  let hash = 0x811c9dc5 ^ FAULT_SEED;
  for (let index = 0; index < scenario.length; index += 1) hash = Math.imul(hash ^ scenario.charCodeAt(index), 0x01000193);
  const next = seededRandom(hash);
  return { next, between: (min, max) => min + next() * (max - min) };
}

/** Prints the moments a scenario's seed chose, with the seed that repeats them. */
export function printMoments(scenario: string, moments: readonly string[]): void {
  process.stdout.write(`\n${scenario} (seed ${FAULT_SEED}):\n${moments.map((moment) => `  ${moment}`).join('\n')}\n`);
}
