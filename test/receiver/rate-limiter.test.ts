import { createRateLimiter } from '../../receiver/rate-limiter';

describe('rate limiter', () => {
  it('lets a burst through, then answers with the seconds until a token is free', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 3, maxClients: 10 });
    expect([0, 0, 0, 0].map(() => limiter.take('a', 0))).toEqual([0, 0, 0, 1]);
  });

  it('refills at the configured rate up to the burst', () => {
    const limiter = createRateLimiter({ perSecond: 2, burst: 2, maxClients: 10 });
    expect([limiter.take('a', 0), limiter.take('a', 0), limiter.take('a', 0)]).toEqual([0, 0, 1]);
    expect([limiter.take('a', 500), limiter.take('a', 500)]).toEqual([0, 1]);
    // A long pause refills to the burst, not beyond it.
    expect([limiter.take('a', 60_000), limiter.take('a', 60_000), limiter.take('a', 60_000)]).toEqual([0, 0, 1]);
  });

  it('charges no token for a refused request, so a client retrying while refused gets its token on time', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxClients: 10 });
    expect(limiter.take('a', 0)).toBe(0);
    // Times whose refills add up exactly in binary floating point, so the token is due at 1000 ms to the bit.
    expect([125, 250, 500, 750, 875].map((nowMs) => limiter.take('a', nowMs))).toEqual([1, 1, 1, 1, 1]);
    expect(limiter.take('a', 1000)).toBe(0);
  });

  it('keeps a bucket per client', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxClients: 10 });
    expect([limiter.take('a', 0), limiter.take('b', 0), limiter.take('a', 0)]).toEqual([0, 0, 1]);
  });

  it('lets everything through when the rate is 0 and keeps no buckets', () => {
    const limiter = createRateLimiter({ perSecond: 0, burst: 1, maxClients: 10 });
    expect(Array.from({ length: 100 }, (_, index) => limiter.take(`c${index}`, 0)).every((wait) => wait === 0)).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it('keeps an active client limited through a flood of new addresses', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 2, maxClients: 100 });
    limiter.take('active', 0);
    limiter.take('active', 0);
    // Rotating addresses fill the table many times over; the active client keeps sending in between.
    for (let index = 0; index < 10_000; index += 1) {
      limiter.take(`198.51.${index >> 8}.${index & 255}`, 0);
      if (index % 50 === 0) expect(limiter.take('active', 0)).toBeGreaterThan(0);
    }
    expect(limiter.take('active', 0)).toBeGreaterThan(0);
  });

  it('evicts the least recently used client, not the first one seen', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 1, maxClients: 2 });
    limiter.take('first', 0);
    limiter.take('second', 0);
    limiter.take('first', 0);
    limiter.take('third', 0);
    // 'first' was kept (still limited), 'second' was evicted (a fresh burst).
    expect([limiter.take('first', 0), limiter.take('second', 0)]).toEqual([1, 0]);
  });

  it('never holds more buckets than maxClients', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 5, maxClients: 1000 });
    for (let index = 0; index < 50_000; index += 1) limiter.take(`client-${index}`, index);
    expect(limiter.size).toBe(1000);
  });
});
