/**
 * Firebase's sort order, as the official SDKs apply it (`nameCompare`, `tryParseInt`, the value/priority indexes).
 * The REST API returns a filtered result as a JSON object whose key order means nothing, so the client sorts.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A key's value as a 32-bit integer when it looks like one (`"-1"`, `"01"`), else null (`"2147483648"`, `"1.5"`). */
export function keyAsInt(key: string): number | null {
  if (!/^-?(0*)\d{1,10}$/.test(key)) return null;
  const value = Number(key);
  return value >= -2147483648 && value <= 2147483647 ? value : null;
}

/** Key order: 32-bit-integer keys first, numerically (a tie, "1" vs "01", goes to the shorter); then the rest by UTF-16 code unit. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const ai = keyAsInt(a);
  const bi = keyAsInt(b);
  if (ai !== null && bi !== null) return ai === bi ? a.length - b.length : ai - bi;
  if (ai !== null) return -1;
  if (bi !== null) return 1;
  return a < b ? -1 : 1;
}

function rank(value: JsonValue | undefined): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case "boolean":
      return 1;
    case "number":
      return 2;
    case "string":
      return 3;
    default:
      return Array.isArray(value) && value.length === 0 ? 0 : isEmptyObject(value) ? 0 : 4;
  }
}

function isEmptyObject(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

/** Value order: null (or missing) < false < true < numbers < strings (UTF-16 code units) < objects (all equal). */
export function compareValues(a: JsonValue | undefined, b: JsonValue | undefined): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1 || ra === 2 || ra === 3) {
    const x = a as boolean | number | string;
    const y = b as boolean | number | string;
    return x < y ? -1 : x === y ? 0 : 1;
  }
  return 0;
}

/** Priority order: none < numbers < strings. */
export function comparePriorities(a: JsonValue | undefined, b: JsonValue | undefined): number {
  const norm = (p: JsonValue | undefined) => (typeof p === "number" || typeof p === "string" ? p : null);
  return compareValues(norm(a), norm(b));
}

/** The child at a slash path inside a value; undefined when any step is missing. */
export function childAt(value: JsonValue | undefined, path: string): JsonValue | undefined {
  let at = value;
  for (const segment of path.split("/")) {
    if (segment === "") continue;
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<string, JsonValue>)[segment];
  }
  return at;
}

/** What a query orders by: `$key`, `$value`, `$priority`, or a child path. */
export type OrderBy = { kind: "key" } | { kind: "value" } | { kind: "priority" } | { kind: "child"; path: string };

/** The value an entry is ordered by (for `$key`, the key itself). */
export function indexValue(orderBy: OrderBy, key: string, value: JsonValue): JsonValue | undefined {
  switch (orderBy.kind) {
    case "key":
      return key;
    case "value":
      return value;
    case "priority":
      return value !== null && typeof value === "object" && !Array.isArray(value) ? value[".priority"] : undefined;
    case "child":
      return childAt(value, orderBy.path);
  }
}

/** Compares two index values under an ordering (not yet tie-broken by key). */
export function compareIndex(orderBy: OrderBy, a: JsonValue | undefined, b: JsonValue | undefined): number {
  if (orderBy.kind === "key") return compareKeys(String(a), String(b));
  if (orderBy.kind === "priority") return comparePriorities(a, b);
  return compareValues(a, b);
}

/** Compares two entries: by the ordering, then by key. */
export function compareEntries(orderBy: OrderBy, a: [string, JsonValue], b: [string, JsonValue]): number {
  const byIndex = compareIndex(orderBy, indexValue(orderBy, a[0], a[1]), indexValue(orderBy, b[0], b[1]));
  return byIndex !== 0 ? byIndex : compareKeys(a[0], b[0]);
}

/** The children of a REST answer as [key, value] pairs: an object's entries, or an array's non-null slots. */
export function childrenOf(value: JsonValue | undefined): Array<[string, JsonValue]> {
  if (value === null || value === undefined || typeof value !== "object") return [];
  if (Array.isArray(value)) {
    const out: Array<[string, JsonValue]> = [];
    value.forEach((item, index) => {
      if (item !== null) out.push([String(index), item]);
    });
    return out;
  }
  return Object.keys(value)
    .filter((key) => key !== ".priority" && key !== ".value")
    .map((key): [string, JsonValue] => [key, value[key]!]);
}

/** Sorts children in Firebase's order for `orderBy` (by key when none is given). */
export function sortChildren(value: JsonValue | undefined, orderBy: OrderBy = { kind: "key" }): Array<[string, JsonValue]> {
  return childrenOf(value).sort((a, b) => compareEntries(orderBy, a, b));
}
