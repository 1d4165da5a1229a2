/**
 * Cleanup registered where a resource is created, run after the file's tests in reverse
 * order of creation (a consumer is disconnected before its topic is deleted).
 */
const pending: Array<() => unknown> = [];

export function onCleanup(release: () => unknown): void {
  pending.push(release);
}

afterAll(async () => {
  while (pending.length > 0) {
    const release = pending.pop()!;
    await release();
  }
});
