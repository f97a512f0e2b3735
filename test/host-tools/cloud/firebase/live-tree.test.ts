import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalize, setAt } from "../../../../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";
import { writeInPlace } from "../../../../host-tools/cloud/firebase/live-tree.ts";
import { path, tree, write } from "./tree-arbitraries.ts";
import { readerAfter, type Writes } from "../../../../host-tools/cloud/firebase/tree-view.ts";


/** The tree as copy-on-write setAt builds it: the reference the in-place writer must match. */
const reference = (root: JsonValue, writes: Writes) => writes.reduce((tree, [at, v]) => setAt(tree, at, v), root);

describe("writeInPlace", () => {
  it("gives the same tree as setAt for any sequence of writes (deletes, scalars on the path, __proto__ keys)", () => {
    fc.assert(
      fc.property(tree, fc.array(write, { maxLength: 12 }), (start, writes) => {
        let live = structuredClone(start);
        for (const [at, v] of writes) live = writeInPlace(live, at, structuredClone(v));
        expect(live).toEqual(reference(start, writes));
        expect(live).toEqual(normalize(live)); // still normalized: no empty objects left behind
      }),
      { numRuns: 3000 },
    );
  });

  it("changes the objects on the path only: a sibling subtree stays the very same object", () => {
    const sibling = { deep: { x: 1 } };
    const root = { readings: { r1: 1 }, other: sibling } as JsonValue;
    const after = writeInPlace(root, ["readings", "r2"], 2);
    expect(after).toBe(root);
    expect((after as { other: unknown }).other).toBe(sibling);
    expect(after).toEqual({ readings: { r1: 1, r2: 2 }, other: { deep: { x: 1 } } });
  });
});

describe("readerAfter", () => {
  it("reads every location as the tree after the writes would, without changing the tree", () => {
    fc.assert(
      fc.property(tree, fc.array(write, { minLength: 1, maxLength: 4 }), path, (start, writes, at) => {
        const before = JSON.stringify(start);
        const view = readerAfter(start, writes);
        const expected = reference(start, writes);
        const expectedAt = at.reduce<JsonValue>((node, k) => (node && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, k) ? node[k]! : null), expected);
        expect(view.get(at)).toEqual(expectedAt);
        expect(view.exists(at)).toBe(expectedAt !== null);
        expect(JSON.stringify(start)).toBe(before);
      }),
      { numRuns: 3000 },
    );
  });
});
