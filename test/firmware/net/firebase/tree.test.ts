import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";
import { diff, getAt, normalize, setAt } from "../../../../firmware/net/firebase/tree.ts";

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
});
