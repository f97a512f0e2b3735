import { getAt, setAt } from "../../../firmware/net/firebase/tree.ts";
import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";

/** A database tree as security rules read it: by location, so a rule pays for what it looks at. */
export interface TreeReader {
  get(path: string[]): JsonValue;
  exists(path: string[]): boolean;
}

/** Normalized values written at paths, in order (a set is one; a multi-path update is several). */
export type Writes = [path: string[], value: JsonValue][];

export function readerOf(root: JsonValue): TreeReader {
  return { get: (path) => getAt(root, path), exists: (path) => getAt(root, path) !== null };
}

const startsWith = (path: string[], prefix: string[]) => prefix.length <= path.length && prefix.every((key, i) => path[i] === key);

/**
 * The tree as it would be after `writes`, without building it: a location at or below a write reads the written
 * value; one above a write is assembled only when a rule asks for its value (exists() usually needs no assembly);
 * anything else reads the tree as it is.
 */
export function readerAfter(root: JsonValue, writes: Writes): TreeReader {
  const get = (path: string[]): JsonValue => {
    let value = getAt(root, path);
    for (const [at, written] of writes) {
      if (startsWith(path, at)) value = getAt(written, path.slice(at.length));
      else if (startsWith(at, path)) value = setAt(value, at.slice(path.length), written);
    }
    return value;
  };
  const exists = (path: string[]): boolean => {
    for (let i = writes.length - 1; i >= 0; i--) {
      const [at, written] = writes[i]!;
      if (startsWith(path, at)) return getAt(written, path.slice(at.length)) !== null;
      if (startsWith(at, path)) return written !== null || get(path) !== null;
    }
    return getAt(root, path) !== null;
  };
  return { get, exists };
}
