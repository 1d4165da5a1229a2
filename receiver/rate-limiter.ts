/**
 * A token bucket per client address: `perSecond` tokens a second up to `burst`.
 * Buckets are kept in insertion order and the oldest dropped past `maxClients`, so a flood of
 * spoofed-looking addresses cannot grow memory without bound.
 */
export interface RateLimiter {
  /** 0 when the request may go ahead, else the seconds until a token is free. */
  take(client: string, nowMs?: number): number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createRateLimiter(options: { perSecond: number; burst: number; maxClients?: number }): RateLimiter {
  const { perSecond, burst } = options;
  const maxClients = options.maxClients ?? 100_000;
  const buckets = new Map<string, Bucket>();
  if (perSecond <= 0) return { take: () => 0 };

  return {
    take(client, nowMs = performance.now()) {
      let bucket = buckets.get(client);
      if (!bucket) {
        if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
        bucket = { tokens: burst, updatedMs: nowMs };
        buckets.set(client, bucket);
      } else {
        bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond);
        bucket.updatedMs = nowMs;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    },
  };
}
