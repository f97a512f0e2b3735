import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonNesting } from "../../../firmware/core/json-depth.ts";

const depth = (value: unknown): number =>
  value !== null && typeof value === "object" ? 1 + Math.max(0, ...Object.values(value).map(depth)) : 0;

describe("jsonNesting", () => {
  it("measures what JSON.parse would build, brackets inside strings and escaped quotes aside (property)", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        expect(jsonNesting(text, 100)).toBe(depth(JSON.parse(text)));
      }),
      { numRuns: 2000 },
    );
    expect(jsonNesting(String.raw`{"a":"[[[\"{{"}`, 10)).toBe(1);
  });

  it("stops at the limit on text nested 60,000 deep, and takes any text", () => {
    expect(jsonNesting("[".repeat(60_000), 32)).toBe(33);
    fc.assert(
      fc.property(fc.string(), fc.nat(40), (text, limit) => {
        const got = jsonNesting(text, limit);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBeLessThanOrEqual(limit + 1);
      }),
      { numRuns: 2000 },
    );
  });
});
