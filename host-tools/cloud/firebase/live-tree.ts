import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";
import { setOwn } from "../../../firmware/net/firebase/tree.ts";

type JsonObject = { [key: string]: JsonValue };

const isObject = (value: JsonValue | undefined): value is JsonObject => value !== null && typeof value === "object" && !Array.isArray(value);
const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);


function isEmpty(object: JsonObject): boolean {
  for (const _ in object) return false;
  return true;
}

/**
 * Writes `value` (already normalized: no arrays, nulls or empty objects inside) at `segments` of a normalized tree,
 * changing the tree in place, and returns the new root. The cost is the path's length, whatever the tree's size:
 * objects on the way are reused, not copied. Same result as tree.ts's setAt: a scalar on the way becomes an object
 * (or, for a delete, goes), and objects left empty by a delete go too.
 */
export function writeInPlace(root: JsonValue, segments: string[], value: JsonValue): JsonValue {
  if (segments.length === 0) return value;
  if (value === null) return deleteInPlace(root, segments);
  const top: JsonObject = isObject(root) ? root : {};
  let at = top;
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i]!;
    let next = hasOwn(at, key) ? at[key] : undefined;
    if (!isObject(next)) {
      next = {};
      setOwn(at, key, next);
    }
    at = next;
  }
  setOwn(at, segments[segments.length - 1]!, value);
  return top;
}

function deleteInPlace(root: JsonValue, segments: string[]): JsonValue {
  if (!isObject(root)) return null;
  const chain: JsonObject[] = [root];
  // Walk while the path runs through objects; the first non-object (or the target) is what goes.
  for (let i = 0; i < segments.length - 1; i++) {
    const key = segments[i]!;
    if (!hasOwn(chain[i]!, key)) return root;
    const next = chain[i]![key]!;
    if (!isObject(next)) break;
    chain.push(next);
  }
  const last = chain.length - 1;
  delete chain[last]![segments[last]!];
  for (let i = last; i > 0 && isEmpty(chain[i]!); i--) delete chain[i - 1]![segments[i - 1]!];
  return isEmpty(root) ? null : root;
}
