import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it resolves, or fails after `timeoutMs` with `what` and the last error,
 * so a failed start says which service did not answer and why.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<unknown>,
  options: { timeoutMs: number; intervalMs?: number; alive?: () => boolean; hint?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    if (options.alive && !options.alive()) {
      throw new Error(`${what} exited before it answered. ${options.hint ?? ''} Last error: ${describe(lastError)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${what} did not answer within ${Math.round(options.timeoutMs / 1000)} s. ${options.hint ?? ''} Last error: ${describe(lastError)}`,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
