/** Stops what the global setup started; services it found running stay up. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.tradeWebhooksServices?.stop();
}
