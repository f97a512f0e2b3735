import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalize } from "../../../../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";
import { writeInPlace } from "../../../../host-tools/cloud/firebase/live-tree.ts";
import { path, tree, write } from "./tree-arbitraries.ts";
import { writeTree } from "../../../../host-tools/cloud/firebase/tree-writer.ts";


const text = async (root: JsonValue, options: Parameters<typeof writeTree>[2] = {}) => {
  let out = "";
  await writeTree(root, async (chunk) => void (out += chunk), options);
  return out;
};

/** JSON with keys sorted at every level. */
function canonical(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const object = value as Record<string, JsonValue>;
  return `{${Object.keys(object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(object[k]!)}`)
    .join(",")}}`;
}

describe("writeTree", () => {
  it("writes what JSON.stringify writes when the tree holds still", async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.integer({ min: 1, max: 5 }), async (root, nodesPerSlice) => {
        expect(await text(root, { nodesPerSlice })).toBe(JSON.stringify(root));
      }),
      { numRuns: 500 },
    );
  });

  it("gives, under writes made while it runs, a text that the same writes replayed over turn into the latest tree", async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.array(fc.array(write, { maxLength: 3 }), { maxLength: 12 }), fc.integer({ min: 1, max: 3 }), async (start, batches, nodesPerSlice) => {
        let live: JsonValue = structuredClone(start);
        const during: [string[], JsonValue][] = [];
        let slice = 0;
        const pause = async () => {
          // Between slices the tree changes in place, as the database's writes change it.
          for (const [at, v] of batches[slice++] ?? []) {
            live = writeInPlace(live, at, structuredClone(v));
            during.push([at, v]);
          }
        };
        const snapshot = await text(live, { nodesPerSlice, pause });
        let replayed = normalize(JSON.parse(snapshot) as JsonValue);
        for (const [at, v] of during) replayed = writeInPlace(replayed, at, structuredClone(v));
        expect(canonical(replayed)).toBe(canonical(live)); // key order means nothing in the database
      }),
      { numRuns: 3000 },
    );
  });
});
