/**
 * kafkajs 2.2.4 schedules its request queue's next check with a negative delay whenever no
 * request is pending (`scheduleCheckPendingRequests`: its `throttledUntil` of -1 minus now).
 * Node.js 24 prints a TimeoutNegativeWarning for it and waits 1 ms, as earlier versions did
 * without a word. This drops that one warning, and only when kafkajs raised it; every other
 * warning is printed as Node.js prints it.
 */
export function dropKafkajsNegativeTimeoutWarning(): void {
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning' && warning.stack?.includes('kafkajs')) return;
    for (const print of printers) print(warning);
  });
}
