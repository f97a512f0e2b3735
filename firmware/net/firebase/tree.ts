import type { JsonValue } from "./ordering.ts";

type JsonObject = { [key: string]: JsonValue };

/**
 * The helpers below walk trees with explicit stacks, never by recursion, so a deeply nested value (it may come from
 * the network) costs time in proportion to its size and cannot overflow the call stack.
 */

/** Firebase's own bound on the depth of the database tree: a value may sit at most 32 keys below the root. */
export const MAX_TREE_DEPTH = 32;

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isContainer(value: JsonValue | undefined): value is JsonObject | JsonValue[] {
  return value !== null && typeof value === "object";
}

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** The child `key` of an object, or null; inherited properties ("constructor", …) are not children. */
function child(object: JsonObject, key: string): JsonValue {
  return hasOwn(object, key) ? (object[key] ?? null) : null;
}

/** Sets an own property; "__proto__" is a key like any other in Firebase, and plain assignment would change the prototype. */
export function setOwn(object: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

function isEmpty(object: JsonObject): boolean {
  for (const _ in object) return false;
  return true;
}

interface NormalizeFrame {
  source: JsonObject | JsonValue[];
  keys: string[];
  next: number;
  out: JsonObject;
  /** The key in the parent frame this frame's result goes to. */
  key: string;
}

/**
 * A value as the database holds it: arrays become objects keyed "0", "1", …, null children and empty objects
 * vanish. Keeping the local copy in this one shape makes patches and comparisons exact.
 */
export function normalize(value: JsonValue | undefined): JsonValue {
  if (value === undefined || value === null) return null;
  if (!isContainer(value)) return value;
  const frame = (source: JsonObject | JsonValue[], key: string): NormalizeFrame => ({ source, keys: Object.keys(source), next: 0, out: {}, key });
  const stack: NormalizeFrame[] = [frame(value, "")];
  for (;;) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.keys.length) {
      const key = top.keys[top.next++]!;
      const item = (top.source as Record<string, JsonValue | undefined>)[key];
      if (isContainer(item)) stack.push(frame(item, key));
      else if (item !== undefined && item !== null) setOwn(top.out, key, item);
      continue;
    }
    stack.pop();
    const done = isEmpty(top.out) ? null : top.out;
    const parent = stack[stack.length - 1];
    if (!parent) return done;
    if (done !== null) setOwn(parent.out, top.key, done);
  }
}

/** How many levels of objects and arrays `value` nests (0 for a scalar), or `limit + 1` once it is deeper than `limit`. */
export function depthOf(value: JsonValue, limit: number): number {
  let deepest = 0;
  const stack: [JsonValue, number][] = [[value, 0]];
  while (stack.length) {
    const [at, depth] = stack.pop()!;
    if (!isContainer(at)) continue;
    if (depth + 1 > deepest) {
      deepest = depth + 1;
      if (deepest > limit) return limit + 1;
    }
    for (const key of Object.keys(at)) stack.push([(at as Record<string, JsonValue>)[key] ?? null, depth + 1]);
  }
  return deepest;
}

/** The value at `segments` inside `root`, or null. */
export function getAt(root: JsonValue, segments: string[]): JsonValue {
  let at: JsonValue = root;
  for (const segment of segments) {
    if (!isObject(at)) return null;
    at = child(at, segment);
  }
  return at;
}

/**
 * A copy of `root` with `value` at `segments` (null deletes); untouched branches are shared, not copied. One pass
 * down the path and one back up: time in proportion to the path's length (plus the keys of each object on it).
 */
export function setAt(root: JsonValue, segments: string[], value: JsonValue): JsonValue {
  const bases: JsonObject[] = [];
  let at: JsonValue = root;
  for (const segment of segments) {
    const base = isObject(at) ? at : {};
    bases.push(base);
    at = child(base, segment);
  }
  let result = normalize(value);
  for (let i = segments.length - 1; i >= 0; i--) {
    const copy: JsonObject = { ...bases[i]! };
    if (result === null) delete copy[segments[i]!];
    else setOwn(copy, segments[i]!, result);
    result = isEmpty(copy) ? null : copy;
  }
  return result;
}

export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  const stack: [JsonValue, JsonValue][] = [[a, b]];
  while (stack.length) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (!isObject(x) || !isObject(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!hasOwn(y, key)) return false;
      stack.push([x[key]!, y[key]!]);
    }
  }
  return true;
}

export interface Change {
  /** Slash path relative to the listened location, "/" for the location itself. */
  path: string;
  /** The new value there; null when it was removed. */
  value: JsonValue;
}

interface PathLink {
  key: string;
  parent: PathLink | undefined;
}

/**
 * The smallest set of paths whose values differ between two normalized trees, depth first in key order. Shared
 * branches (setAt keeps them) are skipped at once; a change's path is spelled out only for the changes reported.
 */
export function diff(before: JsonValue, after: JsonValue, path = ""): Change[] {
  const changes: Change[] = [];
  const stack: [JsonValue, JsonValue, PathLink | undefined][] = [[before, after, undefined]];
  while (stack.length) {
    const [x, y, link] = stack.pop()!;
    if (x === y) continue;
    if (!isObject(x) || !isObject(y)) {
      changes.push({ path: spell(path, link), value: y });
      continue;
    }
    const keys = Object.keys(x);
    for (const key of Object.keys(y)) if (!hasOwn(x, key)) keys.push(key);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      stack.push([child(x, key), child(y, key), { key, parent: link }]);
    }
  }
  return changes;
}

function spell(base: string, link: PathLink | undefined): string {
  const keys: string[] = [];
  for (let at = link; at; at = at.parent) keys.push(at.key);
  let out = base;
  for (let i = keys.length - 1; i >= 0; i--) out += `/${keys[i]}`;
  return out || "/";
}
