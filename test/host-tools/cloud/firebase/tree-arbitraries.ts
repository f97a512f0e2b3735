import fc from "fast-check";
import { normalize } from "../../../../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../../../../firmware/net/firebase/ordering.ts";

// Few keys, so that writes often land on, above and below each other; "__proto__" is a key like any other.
export const key = fc.constantFrom("a", "b", "c", "0", "__proto__");
export const path = fc.array(key, { maxLength: 4 });
export const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
  v: fc.oneof({ depthSize: "small", withCrossShrink: true }, fc.constant(null), fc.integer(), fc.string({ maxLength: 3 }), fc.dictionary(key, tie("v"), { maxKeys: 4 })),
})).v;
/** A normalized tree, as the database holds one. */
export const tree = value.map(normalize);
/** A normalized value written at a path. */
export const write = fc.tuple(path, tree);
