import { describe, expect, it } from "vitest";
import { Backoff } from "../../../firmware/core/backoff.ts";

describe("Backoff", () => {
  it("grows by the factor up to the cap, and reset starts over", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it("spreads each wait by ±jitter and never past the cap", () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 10_000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1000);
  });

  it("rejects nonsense settings", () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/initialMs ≤ maxMs/);
  });
});
