import { UsageError } from "../../core/errors.ts";
import { compareIndex, compareKeys, indexValue, type JsonValue, type OrderBy } from "./ordering.ts";

type Bound = { value: JsonValue; key?: string; inclusive: boolean };

interface QueryState {
  orderBy?: OrderBy;
  start?: Bound;
  end?: Bound;
  equal?: { value: JsonValue; key?: string };
  limit?: { first: boolean; count: number };
}

/**
 * A Realtime Database query, built like the SDK's: `query().orderByChild("height").startAt(3).limitToFirst(2)`.
 * Immutable: each call returns a new query. Mistakes the server would reject with a 400 are refused here with the fix.
 */
export class Query {
  readonly #state: QueryState;

  constructor(state: QueryState = {}) {
    this.#state = state;
  }

  orderByChild(path: string): Query {
    if (!path || /^\$|[.#$[\]]/.test(path)) {
      throw new UsageError("BAD_QUERY", `orderByChild("${path}"): give a child path such as "height" or "stats/score"`);
    }
    return this.#order({ kind: "child", path: path.replace(/^\/+|\/+$/g, "") });
  }
  orderByKey(): Query {
    return this.#order({ kind: "key" });
  }
  orderByValue(): Query {
    return this.#order({ kind: "value" });
  }
  orderByPriority(): Query {
    return this.#order({ kind: "priority" });
  }

  startAt(value: JsonValue, key?: string): Query {
    return this.#bound("start", { value, key, inclusive: true }, "startAt");
  }
  startAfter(value: JsonValue, key?: string): Query {
    return this.#bound("start", { value, key, inclusive: false }, "startAfter");
  }
  endAt(value: JsonValue, key?: string): Query {
    return this.#bound("end", { value, key, inclusive: true }, "endAt");
  }
  endBefore(value: JsonValue, key?: string): Query {
    return this.#bound("end", { value, key, inclusive: false }, "endBefore");
  }
  equalTo(value: JsonValue, key?: string): Query {
    if (this.#state.start || this.#state.end || this.#state.equal) {
      throw new UsageError("BAD_QUERY", "equalTo cannot be combined with startAt/endAt/startAfter/endBefore: use one or the other");
    }
    this.#checkValue(value, "equalTo");
    return new Query({ ...this.#state, equal: { value, key } });
  }
  /**
   * Strings that start with `prefix`: the usual `startAt(prefix).endAt(prefix + "\uf8ff")` idiom. Like that idiom it
   * misses strings whose next character is above U+F8FF (CJK compatibility ideographs, some symbols).
   */
  startsWith(prefix: string): Query {
    if (typeof prefix !== "string" || prefix === "") throw new UsageError("BAD_QUERY", "startsWith needs a non-empty string prefix");
    return this.startAt(prefix).endAt(`${prefix}\uf8ff`);
  }
  limitToFirst(count: number): Query {
    return this.#limit(true, count);
  }
  limitToLast(count: number): Query {
    return this.#limit(false, count);
  }

  get orderBy(): OrderBy {
    return this.#state.orderBy ?? { kind: "key" };
  }

  /** The REST query parameters (values JSON-encoded, not yet percent-encoded). */
  toParams(): Record<string, string | number> {
    const s = this.#state;
    const params: Record<string, string | number> = {};
    if (!s.orderBy) {
      if (s.start || s.end || s.equal || s.limit) {
        throw new UsageError("BAD_QUERY", "a query with a range or a limit needs an order: add orderByChild/orderByKey/orderByValue/orderByPriority");
      }
      return params;
    }
    const order = s.orderBy;
    params.orderBy = JSON.stringify(order.kind === "child" ? order.path : `$${order.kind}`);
    const encode = (bound: { value: JsonValue; key?: string }) =>
      JSON.stringify(bound.value) + (bound.key === undefined ? "" : `,${JSON.stringify(bound.key)}`);
    if (s.equal) {
      if (s.equal.key === undefined) params.equalTo = encode(s.equal);
      else params.startAt = params.endAt = encode(s.equal);
    }
    if (s.start) params[s.start.inclusive ? "startAt" : "startAfter"] = encode(s.start);
    if (s.end) params[s.end.inclusive ? "endAt" : "endBefore"] = encode(s.end);
    if (s.limit) params[s.limit.first ? "limitToFirst" : "limitToLast"] = s.limit.count;
    return params;
  }

  /**
   * Orders a REST answer's children and applies the range and limit again locally, so the result is right even if a
   * server (an older emulator) ignores a parameter.
   */
  apply(children: Array<[string, JsonValue]>): Array<[string, JsonValue]> {
    const s = this.#state;
    const order = this.orderBy;
    const sorted = children.slice().sort((a, b) => {
      const byIndex = compareIndex(order, indexValue(order, a[0], a[1]), indexValue(order, b[0], b[1]));
      return byIndex !== 0 ? byIndex : compareKeys(a[0], b[0]);
    });
    const start = s.equal ? { ...s.equal, inclusive: true } : s.start;
    const end = s.equal ? { ...s.equal, inclusive: true } : s.end;
    let result = sorted.filter(([key, value]) => {
      const index = indexValue(order, key, value);
      if (start && this.#position(index, key, start) < 0) return false;
      if (end && this.#position(index, key, end) > 0) return false;
      return true;
    });
    if (s.limit) result = s.limit.first ? result.slice(0, s.limit.count) : result.slice(Math.max(0, result.length - s.limit.count));
    return result;
  }

  /** Where an entry lies relative to a bound: <0 before it, 0 inside (on an inclusive bound), >0 after. */
  #position(index: JsonValue | undefined, key: string, bound: Bound): number {
    const byIndex = compareIndex(this.orderBy, index, bound.value);
    if (byIndex !== 0) return byIndex;
    if (bound.key !== undefined) {
      const byKey = compareKeys(key, bound.key);
      if (byKey !== 0 || bound.inclusive) return byKey;
    }
    if (bound.inclusive) return 0;
    // startAfter/endBefore without a key exclude every entry equal to the bound value.
    return bound === this.#state.start ? -1 : 1;
  }

  #order(orderBy: OrderBy): Query {
    if (this.#state.orderBy) throw new UsageError("BAD_QUERY", "a query can have only one orderBy…; remove the second one");
    return new Query({ ...this.#state, orderBy });
  }

  #bound(which: "start" | "end", bound: Bound, name: string): Query {
    if (this.#state[which] || this.#state.equal) {
      throw new UsageError("BAD_QUERY", `${name}: this query already has a ${which === "start" ? "start" : "end"} bound or equalTo`);
    }
    this.#checkValue(bound.value, name);
    return new Query({ ...this.#state, [which]: bound });
  }

  #checkValue(value: JsonValue, name: string): void {
    const ok = value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string";
    if (!ok || (typeof value === "number" && !Number.isFinite(value))) {
      throw new UsageError("BAD_QUERY", `${name}(${JSON.stringify(value)}): a bound must be null, a boolean, a finite number or a string`);
    }
    if (this.#state.orderBy?.kind === "key" && typeof value !== "string") {
      throw new UsageError("BAD_QUERY", `${name}: with orderByKey the bound must be a string key, got ${JSON.stringify(value)}`);
    }
  }

  #limit(first: boolean, count: number): Query {
    if (this.#state.limit) throw new UsageError("BAD_QUERY", "a query can have only one limitToFirst/limitToLast");
    if (!Number.isInteger(count) || count <= 0) {
      throw new UsageError("BAD_QUERY", `limitTo${first ? "First" : "Last"}(${count}): the limit must be a positive whole number`);
    }
    return new Query({ ...this.#state, limit: { first, count } });
  }
}

export function query(): Query {
  return new Query();
}
