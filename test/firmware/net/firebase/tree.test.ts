import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";
import { deepEqual, depthOf, diff, getAt, normalize, setAt } from "../../../../firmware/net/firebase/tree.ts";

describe("local tree helpers", () => {
  it("normalizes arrays to objects and drops nulls and empty objects", () => {
    expect(normalize([1, null, { a: null }, { b: {} }, "x"] as JsonValue)).toEqual({ "0": 1, "4": "x" });
  });

  it("sets deep paths, deletes with null and prunes emptied parents, sharing untouched branches", () => {
    const root = { a: { b: 1 }, keep: { big: true } } as JsonValue;
    const added = setAt(root, ["a", "c", "d"], 2);
    expect(added).toEqual({ a: { b: 1, c: { d: 2 } }, keep: { big: true } });
    expect((added as Record<string, JsonValue>).keep).toBe((root as Record<string, JsonValue>).keep);
    expect(setAt(added, ["a"], null)).toEqual({ keep: { big: true } });
    expect(setAt({ a: { b: 1 } } as JsonValue, ["a", "b"], null)).toBeNull();
    expect(setAt(5, ["x"], 1)).toEqual({ x: 1 });
    expect(getAt(added, ["a", "c", "d"])).toBe(2);
  });

  it("reports exactly the leaves that changed", () => {
    const before = { a: 1, b: { c: 2, d: 3 }, e: 4 } as JsonValue;
    const after = { a: 1, b: { c: 20, d: 3 }, f: { g: 5 } } as JsonValue;
    expect(diff(before, after)).toEqual([
      { path: "/b/c", value: 20 },
      { path: "/e", value: null },
      { path: "/f", value: { g: 5 } },
    ]);
    expect(diff(null, { a: 1 } as JsonValue)).toEqual([{ path: "/", value: { a: 1 } }]);
    expect(diff(before, before)).toEqual([]);
  });

  it("applying the reported changes to the old tree gives the new tree (property)", () => {
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: "small" }, fc.integer({ min: 0, max: 3 }), fc.dictionary(fc.constantFrom("a", "b", "c"), tie("node"), { maxKeys: 3 })),
    })).node as fc.Arbitrary<JsonValue>;
    fc.assert(
      fc.property(tree, tree, (x, y) => {
        const before = normalize(x);
        const after = normalize(y);
        let rebuilt = before;
        for (const change of diff(before, after)) rebuilt = setAt(rebuilt, change.path.split("/").filter(Boolean), change.value);
        expect(rebuilt).toEqual(after);
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with plain recursive definitions on random trees (property)", () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.constantFrom(null, 0, 1, "x", true),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom("a", "b", "c", "constructor", "0"), tie("node"), { maxKeys: 3 }),
      ),
    })).node as fc.Arbitrary<JsonValue>;
    const segments = fc.array(fc.constantFrom("a", "b", "c", "toString"), { maxLength: 4 });
    fc.assert(
      fc.property(value, value, segments, value, (x, y, path, v) => {
        expect(normalize(x)).toEqual(reference.normalize(x));
        const [a, b] = [normalize(x), normalize(y)];
        expect(deepEqual(a, b)).toBe(reference.deepEqual(a, b));
        expect(diff(a, b)).toEqual(reference.diff(a, b));
        expect(setAt(a, path, v)).toEqual(reference.setAt(a, path, v));
        expect(depthOf(x, 100)).toBe(reference.depth(x));
      }),
      { numRuns: 1000 },
    );
  });

  it("handles a path of 100,000 segments and data nested 100,000 deep without running out of stack", () => {
    const path = Array.from({ length: 100_000 }, (_, i) => `k${i % 7}`);
    const deep = setAt(null, path, 1);
    expect(getAt(deep, path)).toBe(1);
    expect(diff(deep, setAt(deep, path, 2))).toEqual([{ path: `/${path.join("/")}`, value: 2 }]);
    expect(setAt(deep, path, null)).toBeNull();
    let nested: JsonValue = 1;
    for (let i = 0; i < 100_000; i++) nested = [nested];
    const normalized = normalize(nested);
    expect(getAt(normalized, Array(100_000).fill("0"))).toBe(1);
    expect(deepEqual(normalized, normalize(nested))).toBe(true);
    expect(depthOf(nested, 32)).toBe(33);
    expect(depthOf(nested, 200_000)).toBe(100_000);
  });
});

/** The definitions the helpers implement, written the obvious recursive way (fine for small trees). */
const reference = {
  normalize(value: JsonValue | undefined): JsonValue {
    if (value === undefined || value === null) return null;
    if (typeof value !== "object") return value;
    const out: Record<string, JsonValue> = {};
    for (const key of Object.keys(value)) {
      const child = reference.normalize((value as Record<string, JsonValue>)[key]);
      if (child !== null) out[key] = child;
    }
    return Object.keys(out).length ? out : null;
  },
  isObject: (v: JsonValue): v is Record<string, JsonValue> => v !== null && typeof v === "object" && !Array.isArray(v),
  own: (v: Record<string, JsonValue>, key: string): JsonValue => (Object.prototype.hasOwnProperty.call(v, key) ? v[key]! : null),
  deepEqual(a: JsonValue, b: JsonValue): boolean {
    if (a === b) return true;
    if (!reference.isObject(a) || !reference.isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && reference.deepEqual(a[k]!, b[k]!));
  },
  diff(before: JsonValue, after: JsonValue, path = ""): { path: string; value: JsonValue }[] {
    if (reference.deepEqual(before, after)) return [];
    if (!reference.isObject(before) || !reference.isObject(after)) return [{ path: path || "/", value: after }];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => reference.diff(reference.own(before, k), reference.own(after, k), `${path}/${k}`));
  },
  setAt(root: JsonValue, segments: string[], value: JsonValue): JsonValue {
    if (segments.length === 0) return reference.normalize(value);
    const [head, ...rest] = segments as [string, ...string[]];
    const base = reference.isObject(root) ? root : {};
    const child = reference.setAt(reference.own(base, head), rest, value);
    const copy = { ...base };
    if (child === null) delete copy[head];
    else copy[head] = child;
    return Object.keys(copy).length ? copy : null;
  },
  depth(value: JsonValue): number {
    if (value === null || typeof value !== "object") return 0;
    return 1 + Math.max(0, ...Object.values(value).map((v) => reference.depth(v as JsonValue)));
  },
};
