import { describe, expect, it } from 'vitest';
import { RateLimiter, approximateBytes } from '../../src/main/engine/pipeline/rateLimit.js';

/** A clock that moves only when the limiter sleeps: its waits, added up, without waiting. */
function recorder() {
  const waits: number[] = [];
  let clock = 0;
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
      clock += ms;
    },
    now: () => clock,
    total: () => waits.reduce((a, b) => a + b, 0),
  };
}

describe('rate limit', () => {
  it('holds rows to rowsPerSecond after a one-second burst', async () => {
    const r = recorder();
    const limiter = new RateLimiter(1000, 0, r.sleep, r.now);
    for (let i = 0; i < 10; i++) await limiter.take(500, 0);
    // 5,000 rows at 1,000/s with 1,000 allowed at once: 4 s of waiting.
    expect(r.total()).toBe(4000);
  });

  it('holds bytes to bytesPerSecond, and the slower of the two caps wins', async () => {
    const r = recorder();
    const limiter = new RateLimiter(1_000_000, 10_000, r.sleep, r.now);
    await limiter.take(10, 30_000);
    expect(r.total()).toBe(2000);
  });

  it('never waits without a cap', async () => {
    const r = recorder();
    const limiter = new RateLimiter(0, 0, r.sleep, r.now);
    expect(limiter.active).toBe(false);
    await limiter.take(1_000_000, 1e9);
    expect(r.waits).toEqual([]);
  });

  it('estimates bytes from text, binary and fixed-width values', () => {
    expect(approximateBytes([['abc', Buffer.from([1, 2]), 42, null]])).toBe(3 + 2 + 8 + 8);
  });
});
