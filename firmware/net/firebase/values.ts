import { UsageError } from "../../core/errors.ts";
import { utf8Length } from "../../core/utf8.ts";
import type { JsonValue } from "./ordering.ts";

/** A value the server replaces with its clock (ms since the epoch) when it writes. */
export function serverTimestamp(): JsonValue {
  return { ".sv": "timestamp" };
}

/** A value the server adds `delta` to atomically (a missing value counts as 0). */
export function increment(delta: number): JsonValue {
  if (!Number.isFinite(delta)) throw new UsageError("BAD_VALUE", `increment(${delta}): the amount must be a finite number`);
  return { ".sv": { increment: delta } };
}

const MAX_DEPTH = 32;
const MAX_KEY_BYTES = 768;

/** Checks one key as Firebase does; `what` names where it appears, for the message. */
export function checkKey(key: string, what: string): void {
  if (key === "") throw new UsageError("BAD_KEY", `${what} has an empty key; keys must be non-empty`);
  if (/[.#$/[\]\x00-\x1f\x7f]/.test(key)) {
    throw new UsageError("BAD_KEY", `${what}: key ${JSON.stringify(key)} contains a character Firebase forbids in keys (. # $ / [ ] or a control character); replace it`);
  }
  if (utf8Length(key) > MAX_KEY_BYTES) throw new UsageError("BAD_KEY", `${what}: a key is ${utf8Length(key)} bytes; Firebase allows at most ${MAX_KEY_BYTES}`);
}

/** Splits and checks a database path ("/a/b", "a/b/", "" for the root). */
export function pathSegments(path: string): string[] {
  const segments = path.split("/").filter((segment) => segment !== "");
  for (const segment of segments) checkKey(segment, `path "${path}"`);
  if (segments.length > MAX_DEPTH) throw new UsageError("BAD_PATH", `path "${path}" is ${segments.length} levels deep; Firebase allows ${MAX_DEPTH}`);
  return segments;
}

/** Checks a value before sending it: JSON types only, valid keys, finite numbers, depth ≤ 32. */
export function checkValue(value: unknown, path: string, depth = 0): void {
  if (value === null || typeof value === "boolean" || typeof value === "string") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new UsageError("BAD_VALUE", `the value at ${path} is ${value}; Firebase stores only finite numbers`);
    return;
  }
  if (value === undefined) throw new UsageError("BAD_VALUE", `the value at ${path} is undefined; use null to delete`);
  if (typeof value !== "object") throw new UsageError("BAD_VALUE", `the value at ${path} is a ${typeof value}; Firebase stores JSON only`);
  if (depth >= MAX_DEPTH) throw new UsageError("BAD_VALUE", `the value at ${path} nests deeper than ${MAX_DEPTH} levels; flatten it`);
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkValue(item, `${path}/${index}`, depth + 1));
    return;
  }
  for (const key of Object.keys(value)) {
    if (key === ".sv" || key === ".priority" || key === ".value") continue;
    checkKey(key, `the value at ${path}`);
    checkValue((value as Record<string, unknown>)[key], `${path}/${key}`, depth + 1);
  }
}
