import type { JsonValue } from "../../../firmware/net/firebase/ordering.ts";

/**
 * Priorities as the database stores them: a primitive with a priority is {".value": v, ".priority": p}, an object
 * carries a ".priority" child (REST reference, "format=export"; the SDK's validation.ts allows ".value" only beside
 * ".priority").
 */

/** The priority of a stored node, or null. */
export function priorityOf(node: JsonValue): JsonValue {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return null;
  return Object.hasOwn(node, ".priority") ? node[".priority"]! : null;
}

/** The node with its priority set (null removes it); a node that does not exist stays absent, as it can hold no priority. */
export function withPriority(node: JsonValue, priority: JsonValue): JsonValue {
  if (node === null) return null;
  if (typeof node !== "object" || Array.isArray(node)) return priority === null ? node : { ".value": node, ".priority": priority };
  if (Object.hasOwn(node, ".value")) return priority === null ? node[".value"]! : { ".value": node[".value"]!, ".priority": priority };
  const copy: Record<string, JsonValue> = {};
  for (const [key, child] of Object.entries(node)) if (key !== ".priority") copy[key] = child;
  if (priority !== null) copy[".priority"] = priority;
  return copy;
}

/** Why `value` cannot be a priority, or undefined when it can: a string, a finite number or null. */
export function badPriority(value: JsonValue): string | undefined {
  if (value === null || typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return undefined;
  return `a priority is a string, a number or null, not ${JSON.stringify(value).slice(0, 40)}`;
}
