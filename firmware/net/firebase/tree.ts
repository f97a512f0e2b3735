import type { JsonValue } from "./ordering.ts";

type JsonObject = { [key: string]: JsonValue };

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * A value as the database holds it: arrays become objects keyed "0", "1", …, null children and empty objects
 * vanish. Keeping the local copy in this one shape makes patches and comparisons exact.
 */
export function normalize(value: JsonValue | undefined): JsonValue {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object") return value;
  const out: JsonObject = {};
  let any = false;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const child = normalize(item);
      if (child !== null) {
        out[String(index)] = child;
        any = true;
      }
    });
  } else {
    for (const key of Object.keys(value)) {
      const child = normalize(value[key]);
      if (child !== null) {
        out[key] = child;
        any = true;
      }
    }
  }
  return any ? out : null;
}

/** The value at `segments` inside `root`, or null. */
export function getAt(root: JsonValue, segments: string[]): JsonValue {
  let at: JsonValue = root;
  for (const segment of segments) {
    if (!isObject(at)) return null;
    at = at[segment] ?? null;
  }
  return at;
}

/** A copy of `root` with `value` at `segments` (null deletes); untouched branches are shared, not copied. */
export function setAt(root: JsonValue, segments: string[], value: JsonValue): JsonValue {
  if (segments.length === 0) return normalize(value);
  const [head, ...rest] = segments as [string, ...string[]];
  const base: JsonObject = isObject(root) ? root : {};
  const child = setAt(base[head] ?? null, rest, value);
  const copy: JsonObject = { ...base };
  if (child === null) delete copy[head];
  else copy[head] = child;
  for (const _ in copy) return copy;
  return null;
}

export function deepEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!(key in b) || !deepEqual(a[key]!, b[key]!)) return false;
  return true;
}

export interface Change {
  /** Slash path relative to the listened location, "/" for the location itself. */
  path: string;
  /** The new value there; null when it was removed. */
  value: JsonValue;
}

/** The smallest set of paths whose values differ between two normalized trees. */
export function diff(before: JsonValue, after: JsonValue, path = ""): Change[] {
  if (deepEqual(before, after)) return [];
  if (!isObject(before) || !isObject(after)) return [{ path: path || "/", value: after }];
  const changes: Change[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) changes.push(...diff(before[key] ?? null, after[key] ?? null, `${path}/${key}`));
  return changes;
}
