/**
 * A token bucket per client address: `perSecond` tokens a second up to `burst`.
 *
 * The table is bounded by `maxClients` and evicts the least recently used bucket: a Map keeps
 * insertion order, and a bucket that is used is moved to the newest end. So a flood of new
 * addresses cannot grow memory, and it evicts the idle buckets first, never the one of a client
 * still sending (which would hand that client a fresh burst).
 */
export interface RateLimiter {
  /** 0 when the request may go ahead, else the seconds until a token is free. */
  take(client: string, nowMs?: number): number;
  /** Buckets held now. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function createRateLimiter(options: { perSecond: number; burst: number; maxClients: number }): RateLimiter {
  const { perSecond, burst, maxClients } = options;
  const buckets = new Map<string, Bucket>();
  if (perSecond <= 0) return { take: () => 0, size: 0 };

  return {
    take(client, nowMs = performance.now()) {
      let bucket = buckets.get(client);
      if (bucket) {
        buckets.delete(client);
        bucket.tokens = Math.min(burst, bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond);
        bucket.updatedMs = nowMs;
      } else {
        if (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
        bucket = { tokens: burst, updatedMs: nowMs };
      }
      buckets.set(client, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
    },
    get size() {
      return buckets.size;
    },
  };
}
