import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { secretsEqual } from "../../../firmware/ui/constant-time.ts";

describe("secretsEqual", () => {
  it("agrees with === on examples: prefixes, extensions, empty strings, one changed digit", () => {
    expect(secretsEqual("1234", "1234")).toBe(true);
    expect(secretsEqual("123", "1234")).toBe(false);
    expect(secretsEqual("12345", "1234")).toBe(false);
    expect(secretsEqual("", "1234")).toBe(false);
    expect(secretsEqual("1234", "")).toBe(false);
    expect(secretsEqual("", "")).toBe(true);
    expect(secretsEqual("1244", "1234")).toBe(false);
    expect(secretsEqual("\u0000", "")).toBe(false);
  });

  it("agrees with === on random strings", () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => secretsEqual(a, b) === (a === b)));
    fc.assert(fc.property(fc.string(), (a) => secretsEqual(a, a)));
  });
});
